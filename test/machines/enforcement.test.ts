/** The enforcement facts in the machines alone: pure transitions with a fixed clock. */
import { describe, expect, it } from "vitest";
import { type AnyMachineSnapshot, type AnyStateMachine, getInitialSnapshot, transition } from "xstate";
import { createFlowContext, disablementMachine, loginMachine } from "../../machines/index.js";

const NOW = Date.parse("2026-01-05T09:00:00.000Z");
const newCode = { code: "123456", hash: "hash-of-123456" };

function start(machine: AnyStateMachine, userId: string | null): AnyMachineSnapshot {
  return getInitialSnapshot(machine, createFlowContext(NOW, userId));
}

/** Applies one event; returns the next snapshot and the intents it emitted. */
function apply(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: Record<string, unknown>) {
  const [next, actions] = transition(machine, snapshot, event as never);
  const intents = (actions as { type: string; params?: { event: unknown } }[])
    .filter((action) => action.type === "xstate.emit")
    .map((action) => action.params?.event);
  return { next, intents };
}

const credentials = (codeRequired: boolean, deviceTrusted: boolean) => ({
  type: "SUBMIT_CREDENTIALS",
  now: NOW,
  userId: "user-1",
  sentTo: "u***@example.com",
  passwordValid: true,
  codeRequired,
  deviceTrusted,
  newCode,
});

describe("login with codeRequired", () => {
  it.each([
    [false, false, "authenticated", "password"],
    [true, false, "awaitingCode", null],
    [true, true, "authenticated", "trusted_device"],
  ])("codeRequired %s, deviceTrusted %s: %s", (codeRequired, deviceTrusted, state, method) => {
    const { next, intents } = apply(loginMachine, start(loginMachine, null), credentials(codeRequired, deviceTrusted));

    expect(next.value).toBe(state);
    const session = intents.find((intent) => (intent as { type: string }).type === "sessionIssued");
    expect(session ? (session as { method: string }).method : null).toBe(method);
  });
});

describe("disablement with mfaEnforced", () => {
  const password = (mfaEnforced: boolean) => ({
    type: "SUBMIT_PASSWORD",
    now: NOW,
    passwordValid: true,
    recentlyVerified: false,
    mfaEnforced,
    sentTo: "u***@example.com",
    newCode,
  });

  it("rejects the password without spending an attempt", () => {
    const initial = start(disablementMachine, "user-1");

    const { next, intents } = apply(disablementMachine, initial, password(true));

    expect(next.value).toBe("awaitingPassword");
    expect(next.context).toEqual(initial.context);
    expect(intents).toEqual([{ type: "rejected", error: "mfa_enforced_by_organization" }]);
  });

  it("rejects a correct code once enforced", () => {
    const awaiting = apply(disablementMachine, start(disablementMachine, "user-1"), password(false)).next;
    expect(awaiting.value).toBe("awaitingCode");

    const { next, intents } = apply(disablementMachine, awaiting, {
      type: "SUBMIT_CODE",
      now: NOW + 1_000,
      codeMatches: true,
      mfaEnforced: true,
    });

    expect(next.value).toBe("awaitingCode");
    expect(next.context).toEqual(awaiting.context);
    expect(intents).toEqual([{ type: "rejected", error: "mfa_enforced_by_organization" }]);
  });

  it("rejects a resend once enforced", () => {
    const awaiting = apply(disablementMachine, start(disablementMachine, "user-1"), password(false)).next;

    const { next, intents } = apply(disablementMachine, awaiting, {
      type: "RESEND_CODE",
      now: NOW + 120_000,
      mfaEnforced: true,
      newCode,
    });

    expect(next.context).toEqual(awaiting.context);
    expect(intents).toEqual([{ type: "rejected", error: "mfa_enforced_by_organization" }]);
  });

  it("disables with a correct code when not enforced", () => {
    const awaiting = apply(disablementMachine, start(disablementMachine, "user-1"), password(false)).next;

    const { next } = apply(disablementMachine, awaiting, {
      type: "SUBMIT_CODE",
      now: NOW + 1_000,
      codeMatches: true,
      mfaEnforced: false,
    });

    expect(next.value).toBe("disabled");
  });
});
