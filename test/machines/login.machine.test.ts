/** The login machine through pure transitions, with every guard branch. */
import { describe, expect, it } from "vitest";
import { loginMachine } from "../../machines/index.js";
import { CODE, OTHER_CODE, START, contextOf, rejectionOf, start, step } from "./support.js";

const credentials = (facts: Record<string, unknown> = {}) => ({
  type: "SUBMIT_CREDENTIALS",
  userId: "user-1",
  sentTo: "a***@example.com",
  passwordValid: true,
  codeRequired: true,
  deviceTrusted: false,
  newCode: CODE,
  ...facts,
});

function awaitingCode() {
  return step(loginMachine, start(loginMachine), credentials()).snapshot;
}

describe("login: credentials", () => {
  it("authenticates with the password when no code is required", () => {
    const result = step(loginMachine, start(loginMachine), credentials({ codeRequired: false }));
    expect(result.snapshot.value).toBe("authenticated");
    expect(result.snapshot.status).toBe("done");
    expect(result.intents).toEqual([{ type: "sessionIssued", method: "password" }]);
    expect(contextOf(result.snapshot).userId).toBe("user-1");
  });

  it("authenticates with a trusted device when a code is required", () => {
    const result = step(loginMachine, start(loginMachine), credentials({ deviceTrusted: true }));
    expect(result.snapshot.value).toBe("authenticated");
    expect(result.intents).toEqual([{ type: "sessionIssued", method: "trusted_device" }]);
  });

  it("issues a code when one is required", () => {
    const result = step(loginMachine, start(loginMachine), credentials());
    const context = contextOf(result.snapshot);
    expect(result.snapshot.value).toBe("awaitingCode");
    expect(result.intents).toEqual([{ type: "codeIssued", code: CODE.code, purpose: "login" }]);
    expect(context.codeHash).toBe(CODE.hash);
    expect(context.codeExpiresAt).toBe(START + 10 * 60_000);
    expect(context.resendAvailableAt).toBe(START + 60_000);
    expect(context.codesSent).toBe(1);
    expect(context.sentTo).toBe("a***@example.com");
  });

  it("keeps the code out of the context", () => {
    const result = step(loginMachine, start(loginMachine), credentials());
    expect(JSON.stringify(result.snapshot.context)).not.toContain(CODE.code);
  });

  it("rejects a wrong password and spends an attempt", () => {
    const result = step(loginMachine, start(loginMachine), credentials({ passwordValid: false }));
    expect(result.snapshot.value).toBe("awaitingCredentials");
    expect(rejectionOf(result)).toBe("invalid_credentials");
    expect(contextOf(result.snapshot).wrongSubmissions).toBe(1);
  });

  it("does not skip the code for a trusted device with a wrong password", () => {
    const result = step(loginMachine, start(loginMachine), credentials({ passwordValid: false, deviceTrusted: true }));
    expect(result.snapshot.value).toBe("awaitingCredentials");
    expect(result.intents.some((intent) => intent.type === "sessionIssued")).toBe(false);
  });

  it("locks on the fifth wrong password", () => {
    let snapshot = start(loginMachine);
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      snapshot = step(loginMachine, snapshot, credentials({ passwordValid: false })).snapshot;
    }
    const result = step(loginMachine, snapshot, credentials({ passwordValid: false }));
    expect(result.snapshot.value).toBe("locked");
    expect(rejectionOf(result)).toBe("too_many_attempts");
    expect(contextOf(result.snapshot).wrongSubmissions).toBe(5);
  });
});

describe("login: code", () => {
  it("authenticates with the right code and forgets it", () => {
    const result = step(loginMachine, awaitingCode(), { type: "SUBMIT_CODE", codeMatches: true });
    expect(result.snapshot.value).toBe("authenticated");
    expect(result.intents).toEqual([{ type: "sessionIssued", method: "code" }]);
    expect(contextOf(result.snapshot).codeHash).toBeNull();
  });

  it("trusts the device when asked", () => {
    const result = step(loginMachine, awaitingCode(), { type: "SUBMIT_CODE", codeMatches: true, rememberDevice: true });
    expect(result.snapshot.value).toBe("authenticated");
    expect(result.intents).toEqual([{ type: "sessionIssued", method: "code" }, { type: "deviceTrusted" }]);
    expect(contextOf(result.snapshot).codeHash).toBeNull();
  });

  it("rejects a wrong code and spends an attempt", () => {
    const result = step(loginMachine, awaitingCode(), { type: "SUBMIT_CODE", codeMatches: false });
    expect(result.snapshot.value).toBe("awaitingCode");
    expect(rejectionOf(result)).toBe("invalid_code");
    expect(contextOf(result.snapshot).wrongSubmissions).toBe(1);
  });

  it("rejects an expired code, even a matching one, without spending an attempt", () => {
    const result = step(loginMachine, awaitingCode(), {
      type: "SUBMIT_CODE",
      codeMatches: true,
      now: START + 10 * 60_000,
    });
    expect(result.snapshot.value).toBe("awaitingCode");
    expect(rejectionOf(result)).toBe("code_expired");
    expect(contextOf(result.snapshot).wrongSubmissions).toBe(0);
  });

  it("accepts the code one millisecond before it expires", () => {
    const result = step(loginMachine, awaitingCode(), {
      type: "SUBMIT_CODE",
      codeMatches: true,
      now: START + 10 * 60_000 - 1,
    });
    expect(result.snapshot.value).toBe("authenticated");
  });

  it("locks after password and code failures count together", () => {
    let snapshot = step(loginMachine, start(loginMachine), credentials({ passwordValid: false })).snapshot;
    snapshot = step(loginMachine, snapshot, credentials()).snapshot;
    for (let attempt = 2; attempt <= 4; attempt += 1) {
      snapshot = step(loginMachine, snapshot, { type: "SUBMIT_CODE", codeMatches: false }).snapshot;
    }
    const result = step(loginMachine, snapshot, { type: "SUBMIT_CODE", codeMatches: false });
    expect(result.snapshot.value).toBe("locked");
    expect(rejectionOf(result)).toBe("too_many_attempts");
    expect(contextOf(result.snapshot).codeHash).toBeNull();
  });
});

describe("login: resend", () => {
  it("refuses a resend before the cooldown", () => {
    const result = step(loginMachine, awaitingCode(), { type: "RESEND_CODE", newCode: OTHER_CODE, now: START + 59_999 });
    expect(rejectionOf(result)).toBe("resend_too_soon");
    expect(contextOf(result.snapshot).codeHash).toBe(CODE.hash);
  });

  it("replaces the code after the cooldown", () => {
    const result = step(loginMachine, awaitingCode(), { type: "RESEND_CODE", newCode: OTHER_CODE, now: START + 60_000 });
    const context = contextOf(result.snapshot);
    expect(result.intents).toEqual([{ type: "codeIssued", code: OTHER_CODE.code, purpose: "login" }]);
    expect(context.codeHash).toBe(OTHER_CODE.hash);
    expect(context.codesSent).toBe(2);
    expect(context.resendAvailableAt).toBe(START + 120_000);
  });

  it("never lets a code outlive the flow", () => {
    const result = step(loginMachine, awaitingCode(), { type: "RESEND_CODE", newCode: OTHER_CODE, now: START + 14 * 60_000 });
    expect(contextOf(result.snapshot).codeExpiresAt).toBe(START + 15 * 60_000);
  });

  it("stops after five codes", () => {
    let snapshot = awaitingCode();
    for (let resend = 1; resend <= 4; resend += 1) {
      snapshot = step(loginMachine, snapshot, { type: "RESEND_CODE", newCode: OTHER_CODE, now: START + resend * 60_000 }).snapshot;
    }
    expect(contextOf(snapshot).codesSent).toBe(5);
    const result = step(loginMachine, snapshot, { type: "RESEND_CODE", newCode: CODE, now: START + 5 * 60_000 });
    expect(rejectionOf(result)).toBe("resend_limit_reached");
    expect(contextOf(result.snapshot).codeHash).toBe(OTHER_CODE.hash);
  });
});

describe("login: cancel and expiry", () => {
  it("cancels in either active state", () => {
    expect(step(loginMachine, start(loginMachine), { type: "CANCEL" }).snapshot.value).toBe("cancelled");
    const cancelled = step(loginMachine, awaitingCode(), { type: "CANCEL" }).snapshot;
    expect(cancelled.value).toBe("cancelled");
    expect(contextOf(cancelled).codeHash).toBeNull();
  });

  it("expires only once the flow is overdue", () => {
    const early = step(loginMachine, awaitingCode(), { type: "EXPIRE", now: START + 15 * 60_000 - 1 });
    expect(early.snapshot.value).toBe("awaitingCode");
    const due = step(loginMachine, awaitingCode(), { type: "EXPIRE", now: START + 15 * 60_000 });
    expect(due.snapshot.value).toBe("expired");
    expect(contextOf(due.snapshot).codeHash).toBeNull();
  });

  it("changes nothing after a final state", () => {
    const done = step(loginMachine, awaitingCode(), { type: "SUBMIT_CODE", codeMatches: true }).snapshot;
    for (const event of [
      { type: "SUBMIT_CODE", codeMatches: true },
      { type: "RESEND_CODE", newCode: OTHER_CODE },
      { type: "CANCEL" },
      { type: "EXPIRE", now: START + 60 * 60_000 },
      credentials(),
    ]) {
      const result = step(loginMachine, done, event);
      expect(result.snapshot.value).toBe("authenticated");
      expect(result.intents).toEqual([]);
    }
  });

  it("ignores events the state does not accept", () => {
    const snapshot = start(loginMachine);
    expect(snapshot.can({ type: "SUBMIT_CODE", now: START, codeMatches: true })).toBe(false);
    expect(snapshot.can({ type: "RESEND_CODE", now: START, newCode: CODE })).toBe(false);
  });
});

describe("login: sign-in pause", () => {
  it("rejects credentials while paused and spends nothing", () => {
    const before = start(loginMachine);
    for (const passwordValid of [true, false]) {
      const result = step(loginMachine, before, credentials({ passwordValid, signInPaused: true }));
      expect(result.snapshot.value).toBe("awaitingCredentials");
      expect(result.intents).toEqual([{ type: "rejected", error: "too_many_failures" }]);
      expect(result.snapshot.context).toEqual(before.context);
    }
  });

  it("lets a trusted device with the right password through", () => {
    const result = step(loginMachine, start(loginMachine), credentials({ deviceTrusted: true, signInPaused: true }));
    expect(result.snapshot.value).toBe("authenticated");
    expect(result.intents).toEqual([{ type: "sessionIssued", method: "trusted_device" }]);
  });

  it("rejects a trusted device with a wrong password", () => {
    const result = step(
      loginMachine,
      start(loginMachine),
      credentials({ passwordValid: false, deviceTrusted: true, signInPaused: true }),
    );
    expect(rejectionOf(result)).toBe("too_many_failures");
    expect(contextOf(result.snapshot).wrongSubmissions).toBe(0);
  });

  it("rejects the right code while paused and keeps it", () => {
    const before = awaitingCode();
    const result = step(loginMachine, before, { type: "SUBMIT_CODE", codeMatches: true, signInPaused: true });
    expect(result.snapshot.value).toBe("awaitingCode");
    expect(result.intents).toEqual([{ type: "rejected", error: "too_many_failures" }]);
    expect(result.snapshot.context).toEqual(before.context);
  });

  it("notifies the owner when wrong codes lock the flow", () => {
    let snapshot = awaitingCode();
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      snapshot = step(loginMachine, snapshot, { type: "SUBMIT_CODE", codeMatches: false }).snapshot;
    }
    const result = step(loginMachine, snapshot, { type: "SUBMIT_CODE", codeMatches: false });
    expect(result.snapshot.value).toBe("locked");
    expect(result.intents).toEqual([
      { type: "rejected", error: "too_many_attempts" },
      { type: "ownerNotified", notice: "sign_in_locked" },
    ]);
  });
});
