/**
 * Security properties of the flow machines on every simple path of their models. A forged or
 * stale code, a wrong password or a skipped step must never reach a goal state, guessing must
 * stop after 5 wrong submissions, and a finished flow must not change on any event. Each
 * property also runs against a deliberately broken copy of a machine, to show that it can fail.
 */
import { type AnyStateMachine, createMachine } from "xstate";
import { describe, expect, it } from "vitest";
import { disablementMachine, enrollmentMachine, loginMachine } from "../../machines/index.js";
import {
  type FlowModel,
  disablementModel,
  enrollmentModel,
  flowModels,
  loginModel,
  simplePathsOf,
  stateNodesOf,
} from "./models.js";
import { type Violation, checkPath } from "./properties.js";

function violationsOf(model: FlowModel, machine: AnyStateMachine, scenarios?: string[]): Violation[] {
  const paths = simplePathsOf(model, { machine, allowDuplicatePaths: true, scenarios });
  return paths.flatMap((path) => checkPath(model, path, machine));
}

for (const model of Object.values(flowModels)) {
  it(`keeps every property on every simple path of ${model.kind}`, () => {
    const paths = simplePathsOf(model, { allowDuplicatePaths: true });
    const violations = paths.flatMap((path) => checkPath(model, path));

    console.log(`security properties ${model.kind}: ${paths.length} simple paths checked`);
    expect(violations).toEqual([]);
    const reached = new Set(paths.map((path) => String(path.state.context.snapshot.value)));
    expect([...reached].sort()).toEqual(stateNodesOf(model.machine).map((node) => node.key).sort());
  });
}

/** Builds a copy of the login machine in which `locked` is no longer final and `CANCEL` leaves it. */
function loginMachineWithLiveLock(): AnyStateMachine {
  const { config } = loginMachine;
  const states = { ...config.states, locked: { on: { CANCEL: "cancelled" } } };
  return createMachine({ ...config, states } as never, loginMachine.implementations as never);
}

const brokenMachines: {
  name: string;
  model: FlowModel;
  machine: AnyStateMachine;
  scenarios: string[];
  property: string;
}[] = [
  {
    name: "login that accepts any code",
    model: loginModel,
    machine: loginMachine.provide({ guards: { isCodeCorrect: () => true } }),
    scenarios: ["MFA on"],
    property: "no authenticated without its evidence",
  },
  {
    name: "login that accepts an expired code",
    model: loginModel,
    machine: loginMachine.provide({ guards: { isCodeExpired: () => false } }),
    scenarios: ["MFA on"],
    property: "no authenticated without its evidence",
  },
  {
    name: "login that skips the code",
    model: loginModel,
    machine: loginMachine.provide({ guards: { isCodeSkipped: () => true } }),
    scenarios: ["MFA on"],
    property: "no authenticated without its evidence",
  },
  {
    name: "login that accepts any password",
    model: loginModel,
    machine: loginMachine.provide({ guards: { isPasswordCorrect: () => true } }),
    scenarios: ["MFA off"],
    property: "no authenticated without its evidence",
  },
  {
    name: "login that ignores a pause at the code",
    model: loginModel,
    machine: loginMachine.provide({ guards: { isSignInPaused: () => false } }),
    scenarios: ["MFA on"],
    property: "no authenticated without its evidence",
  },
  {
    name: "login that never locks",
    model: loginModel,
    machine: loginMachine.provide({ guards: { isLastAttempt: () => false } }),
    scenarios: ["MFA on"],
    property: "at most 5 wrong submissions",
  },
  {
    name: "login whose locked state takes events",
    model: loginModel,
    machine: loginMachineWithLiveLock(),
    scenarios: ["MFA off"],
    property: "a final state never changes",
  },
  {
    name: "enrollment that accepts any password",
    model: enrollmentModel,
    machine: enrollmentMachine.provide({ guards: { isPasswordCorrect: () => true } }),
    scenarios: ["MFA off"],
    property: "no enabled without its evidence",
  },
  {
    name: "enrollment that accepts any code",
    model: enrollmentModel,
    machine: enrollmentMachine.provide({ guards: { isCodeCorrect: () => true } }),
    scenarios: ["MFA off"],
    property: "no enabled without its evidence",
  },
  {
    name: "disablement that trusts every session",
    model: disablementModel,
    machine: disablementMachine.provide({ guards: { isRecentlyVerified: () => true } }),
    scenarios: ["session not recently verified"],
    property: "no disabled without its evidence",
  },
  {
    name: "disablement that ignores enforcement",
    model: disablementModel,
    machine: disablementMachine.provide({ guards: { isMfaEnforced: () => false } }),
    scenarios: ["recently verified session"],
    property: "no disabled without its evidence",
  },
  {
    name: "disablement that never locks",
    model: disablementModel,
    machine: disablementMachine.provide({ guards: { isLastAttempt: () => false } }),
    scenarios: ["session not recently verified"],
    property: "at most 5 wrong submissions",
  },
];

describe("properties against broken machines", () => {
  for (const { name, model, machine, scenarios, property } of brokenMachines) {
    it(`${name}: ${property}`, () => {
      const violations = violationsOf(model, machine, scenarios);

      expect(violations.map((violation) => violation.property)).toContain(property);
    });
  }
});
