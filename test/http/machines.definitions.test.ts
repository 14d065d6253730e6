/**
 * `GET /v1/machines/{kind}` serves `machine.toJSON()`. The expected states, transitions and
 * events come from walking the machine's own state nodes, so a definition that lost or
 * renamed something on its way to JSON fails here.
 */
import type { AnyStateMachine, StateNode } from "xstate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FLOW_KINDS, flowDefinitions } from "../../machines/index.js";
import { type TestApp, createTestApp } from "../support/app.js";

interface TransitionSummary {
  source: string;
  event: string;
  targets: string[];
}

interface JsonTransition {
  source: string;
  eventType: string;
  target?: string[];
}

interface JsonStateNode {
  id: string;
  initial?: { target: string[] };
  states: Record<string, JsonStateNode>;
  on: Record<string, JsonTransition[]>;
  transitions: JsonTransition[];
}

type AnyStateNode = StateNode<any, any>;

function walkStateNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states).flatMap((child) => walkStateNodes(child as AnyStateNode))];
}

function walkJsonStates(node: JsonStateNode): JsonStateNode[] {
  return [node, ...Object.values(node.states).flatMap(walkJsonStates)];
}

/** Lists a machine's transitions in document order, read from its state nodes. */
function machineTransitions(machine: AnyStateMachine): TransitionSummary[] {
  return walkStateNodes(machine.root).flatMap((node) =>
    [...node.transitions.entries()].flatMap(([event, transitions]) =>
      transitions.map((transition) => ({
        source: `#${transition.source.id}`,
        event,
        targets: (transition.target ?? []).map((target) => `#${target.id}`),
      })),
    ),
  );
}

function jsonTransitions(transitions: JsonTransition[]): TransitionSummary[] {
  return transitions.map((transition) => ({
    source: transition.source,
    event: transition.eventType,
    targets: transition.target ?? [],
  }));
}

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(() => app.close());

describe.each(FLOW_KINDS)("GET /v1/machines/%s", (kind) => {
  const machine = flowDefinitions[kind].machine as AnyStateMachine;

  it("serves machine.toJSON()", async () => {
    const response = await app.request("GET", `/v1/machines/${kind}`);

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(response.body).toEqual(JSON.parse(JSON.stringify(machine.toJSON())));
  });

  it("lists the machine's states", async () => {
    const { body } = await app.request("GET", `/v1/machines/${kind}`);
    const states = walkJsonStates(body as JsonStateNode);

    expect(states.map((state) => state.id)).toEqual(walkStateNodes(machine.root).map((node) => node.id));
    expect(body.initial.target).toEqual(machine.root.initial.target.map((node) => `#${node.id}`));
  });

  it("lists the machine's transitions", async () => {
    const { body } = await app.request("GET", `/v1/machines/${kind}`);
    const states = walkJsonStates(body as JsonStateNode);
    const expected = machineTransitions(machine);

    expect(expected.length).toBeGreaterThan(0);
    expect(states.flatMap((state) => jsonTransitions(state.transitions))).toEqual(expected);
    // `on` groups the same transitions by event.
    expect(states.flatMap((state) => Object.values(state.on).flatMap(jsonTransitions))).toEqual(expected);
  });

  it("lists the machine's events", async () => {
    const { body } = await app.request("GET", `/v1/machines/${kind}`);
    const states = walkJsonStates(body as JsonStateNode);

    for (const node of walkStateNodes(machine.root)) {
      const state = states.find((candidate) => candidate.id === node.id);
      expect(Object.keys(state?.on ?? {}), node.id).toEqual([...node.transitions.keys()]);
    }
    const events = new Set(states.flatMap((state) => Object.keys(state.on)));
    expect([...events].sort()).toEqual([...machine.root.events].sort());
  });
});
