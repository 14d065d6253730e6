/** Helpers for driving machines through pure transitions with chosen facts. */
import { type AnyMachineSnapshot, type AnyStateMachine, getInitialSnapshot, transition } from "xstate";
import { DEFAULT_FLOW_LIMITS, type FlowContext, type FlowIntent, createFlowContext } from "../../machines/index.js";

export const START = Date.parse("2026-01-05T09:00:00.000Z");
export const CODE = { code: "123456", hash: "hmac-a" };
export const OTHER_CODE = { code: "654321", hash: "hmac-b" };

export interface Step {
  snapshot: AnyMachineSnapshot;
  intents: FlowIntent[];
}

export function start(machine: AnyStateMachine, userId: string | null = null): AnyMachineSnapshot {
  return getInitialSnapshot(machine, createFlowContext(START, userId, DEFAULT_FLOW_LIMITS));
}

/** Applies one event and returns the next snapshot with the intents it emitted. */
export function step(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: Record<string, unknown>): Step {
  const [next, actions] = transition(machine, snapshot, { now: START, ...event } as never);
  const intents = (actions as { type: string; params?: { event: FlowIntent } }[])
    .filter((action) => action.type === "xstate.emit")
    .map((action) => action.params!.event);
  return { snapshot: next, intents };
}

export function contextOf(snapshot: AnyMachineSnapshot): FlowContext {
  return snapshot.context as FlowContext;
}

export function rejectionOf(result: Step): string | undefined {
  const rejected = result.intents.find((intent) => intent.type === "rejected");
  return rejected?.type === "rejected" ? rejected.error : undefined;
}
