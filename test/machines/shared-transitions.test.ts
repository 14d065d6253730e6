/**
 * The transitions that every flow machine shares, table-driven over the three machines: expiry
 * and cancellation in each active state, the right code, the lock, resends and final states.
 */
import type { AnyStateMachine } from "xstate";
import { describe, expect, it } from "vitest";
import {
  FLOW_KINDS,
  type FlowKind,
  disablementMachine,
  enrollmentMachine,
  flowDefinitions,
  loginMachine,
} from "../../machines/index.js";
import { CODE, OTHER_CODE, START, contextOf, rejectionOf, start, step } from "./support.js";

const FLOW_TTL_MS = 15 * 60_000;
const SENT_TO = "a***@example.com";

interface FlowCase {
  kind: FlowKind;
  machine: AnyStateMachine;
  firstState: string;
  doneState: string;
  /** The first event, right or wrong, with the facts that lead to a code. */
  firstEvent: (passwordValid: boolean) => Record<string, unknown>;
}

const FLOWS: FlowCase[] = [
  {
    kind: "login",
    machine: loginMachine,
    firstState: "awaitingCredentials",
    doneState: "authenticated",
    firstEvent: (passwordValid) => ({
      type: "SUBMIT_CREDENTIALS",
      userId: "user-1",
      sentTo: SENT_TO,
      passwordValid,
      codeRequired: true,
      deviceTrusted: false,
      signInPaused: false,
      newCode: CODE,
    }),
  },
  {
    kind: "enrollment",
    machine: enrollmentMachine,
    firstState: "awaitingPassword",
    doneState: "enabled",
    firstEvent: (passwordValid) => ({ type: "SUBMIT_PASSWORD", passwordValid, sentTo: SENT_TO, newCode: CODE }),
  },
  {
    kind: "disablement",
    machine: disablementMachine,
    firstState: "awaitingPassword",
    doneState: "disabled",
    firstEvent: (passwordValid) => ({
      type: "SUBMIT_PASSWORD",
      passwordValid,
      recentlyVerified: false,
      mfaEnforced: false,
      sentTo: SENT_TO,
      newCode: CODE,
    }),
  },
];

/** Facts that the code events of every machine carry, so that no pause or enforcement applies. */
const CODE_FACTS = { signInPaused: false, mfaEnforced: false };

function expectNoCode(snapshot: Parameters<typeof contextOf>[0]) {
  const context = contextOf(snapshot);
  expect(context.codeHash).toBeNull();
  expect(context.codeExpiresAt).toBeNull();
  expect(context.resendAvailableAt).toBeNull();
}

describe("flow definitions", () => {
  it("list every kind once", () => {
    expect(FLOW_KINDS).toEqual(["login", "enrollment", "disablement"]);
    expect(Object.keys(flowDefinitions)).toEqual([...FLOW_KINDS]);
  });

  it("name each machine after its kind", () => {
    for (const kind of FLOW_KINDS) {
      expect(flowDefinitions[kind].machine.id).toBe(kind);
    }
  });
});

describe.each(FLOWS)("$kind: shared transitions", ({ kind, machine, firstState, doneState, firstEvent }) => {
  const awaitingCode = () => step(machine, start(machine, "user-1"), firstEvent(true)).snapshot;

  it("starts in its first state", () => {
    const snapshot = start(machine, "user-1");
    expect(snapshot.value).toBe(firstState);
    expect(snapshot.status).toBe("active");
  });

  it("records where the code went", () => {
    expect(contextOf(awaitingCode()).sentTo).toBe(SENT_TO);
  });

  it("expires first state once overdue", () => {
    const early = step(machine, start(machine, "user-1"), { type: "EXPIRE", now: START + FLOW_TTL_MS - 1 });
    expect(early.snapshot.value).toBe(firstState);
    const due = step(machine, start(machine, "user-1"), { type: "EXPIRE", now: START + FLOW_TTL_MS });
    expect(due.snapshot.value).toBe("expired");
    expect(due.snapshot.status).toBe("done");
  });

  it("expires awaiting code, forgetting it", () => {
    const early = step(machine, awaitingCode(), { type: "EXPIRE", now: START + FLOW_TTL_MS - 1 });
    expect(early.snapshot.value).toBe("awaitingCode");
    expect(contextOf(early.snapshot).codeHash).toBe(CODE.hash);
    const due = step(machine, awaitingCode(), { type: "EXPIRE", now: START + FLOW_TTL_MS });
    expect(due.snapshot.value).toBe("expired");
    expect(due.snapshot.status).toBe("done");
    expectNoCode(due.snapshot);
  });

  it("cancels in its first state", () => {
    const cancelled = step(machine, start(machine, "user-1"), { type: "CANCEL" }).snapshot;
    expect(cancelled.value).toBe("cancelled");
    expect(cancelled.status).toBe("done");
  });

  it("cancels awaiting code, forgetting it", () => {
    const cancelled = step(machine, awaitingCode(), { type: "CANCEL" }).snapshot;
    expect(cancelled.value).toBe("cancelled");
    expect(cancelled.status).toBe("done");
    expectNoCode(cancelled);
  });

  it("finishes with the right code and forgets it", () => {
    const result = step(machine, awaitingCode(), { type: "SUBMIT_CODE", codeMatches: true, ...CODE_FACTS });
    expect(result.snapshot.value).toBe(doneState);
    expect(result.snapshot.status).toBe("done");
    expectNoCode(result.snapshot);
  });

  it("locks on fifth wrong password", () => {
    let snapshot = start(machine, "user-1");
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      snapshot = step(machine, snapshot, firstEvent(false)).snapshot;
      expect(contextOf(snapshot).wrongSubmissions).toBe(attempt);
    }
    const result = step(machine, snapshot, firstEvent(false));
    expect(result.snapshot.value).toBe("locked");
    expect(result.snapshot.status).toBe("done");
    expect(rejectionOf(result)).toBe("too_many_attempts");
    expect(contextOf(result.snapshot).wrongSubmissions).toBe(5);
  });

  it("locks on fifth wrong code", () => {
    let snapshot = awaitingCode();
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      snapshot = step(machine, snapshot, { type: "SUBMIT_CODE", codeMatches: false, ...CODE_FACTS }).snapshot;
      expect(contextOf(snapshot).wrongSubmissions).toBe(attempt);
      expect(contextOf(snapshot).codeHash).toBe(CODE.hash);
    }
    const result = step(machine, snapshot, { type: "SUBMIT_CODE", codeMatches: false, ...CODE_FACTS });
    expect(result.snapshot.value).toBe("locked");
    expect(result.snapshot.status).toBe("done");
    expect(rejectionOf(result)).toBe("too_many_attempts");
    expect(contextOf(result.snapshot).wrongSubmissions).toBe(5);
    expectNoCode(result.snapshot);
  });

  it("sends the new code of a resend", () => {
    const result = step(machine, awaitingCode(), {
      type: "RESEND_CODE",
      newCode: OTHER_CODE,
      now: START + 60_000,
      ...CODE_FACTS,
    });
    expect(result.intents).toEqual([{ type: "codeIssued", code: OTHER_CODE.code, purpose: kind }]);
    expect(contextOf(result.snapshot).codeHash).toBe(OTHER_CODE.hash);
  });
});
