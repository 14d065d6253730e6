/** The disablement machine through pure transitions, with every guard branch. */
import { describe, expect, it } from "vitest";
import { disablementMachine } from "../../machines/index.js";
import { CODE, OTHER_CODE, START, contextOf, rejectionOf, start, step } from "./support.js";

const password = (facts: Record<string, unknown> = {}) => ({
  type: "SUBMIT_PASSWORD",
  passwordValid: true,
  recentlyVerified: false,
  mfaEnforced: false,
  sentTo: "a***@example.com",
  newCode: CODE,
  ...facts,
});

const TURN_OFF = [{ type: "mfaChanged", enabled: false }, { type: "trustedDevicesRevoked" }, { type: "otherSessionsEnded" }];

function awaitingCode() {
  return step(disablementMachine, start(disablementMachine, "user-1"), password()).snapshot;
}

describe("disablement", () => {
  it("turns MFA off at once for a recently verified session", () => {
    const result = step(disablementMachine, start(disablementMachine, "user-1"), password({ recentlyVerified: true }));
    expect(result.snapshot.value).toBe("disabled");
    expect(result.intents).toEqual(TURN_OFF);
  });

  it("asks for a code otherwise", () => {
    const result = step(disablementMachine, start(disablementMachine, "user-1"), password());
    expect(result.snapshot.value).toBe("awaitingCode");
    expect(result.intents).toEqual([{ type: "codeIssued", code: CODE.code, purpose: "disablement" }]);
  });

  it("refuses while the organization enforces MFA, spending nothing", () => {
    const initial = start(disablementMachine, "user-1");
    const result = step(disablementMachine, initial, password({ mfaEnforced: true, recentlyVerified: true }));
    expect(result.snapshot.value).toBe("awaitingPassword");
    expect(rejectionOf(result)).toBe("mfa_enforced_by_organization");
    expect(result.snapshot.context).toEqual(initial.context);
  });

  it("refuses a wrong password even when recently verified", () => {
    const result = step(disablementMachine, start(disablementMachine, "user-1"), password({ passwordValid: false, recentlyVerified: true }));
    expect(result.snapshot.value).toBe("awaitingPassword");
    expect(rejectionOf(result)).toBe("invalid_password");
    expect(contextOf(result.snapshot).wrongSubmissions).toBe(1);
  });

  it("locks on the fifth wrong password", () => {
    let snapshot = start(disablementMachine, "user-1");
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      snapshot = step(disablementMachine, snapshot, password({ passwordValid: false })).snapshot;
    }
    const result = step(disablementMachine, snapshot, password({ passwordValid: false }));
    expect(result.snapshot.value).toBe("locked");
    expect(rejectionOf(result)).toBe("too_many_attempts");
  });

  it("refuses the code and resends once enforcement has started", () => {
    const snapshot = awaitingCode();
    for (const event of [
      { type: "SUBMIT_CODE", codeMatches: true, mfaEnforced: true },
      { type: "RESEND_CODE", newCode: OTHER_CODE, mfaEnforced: true, now: START + 60_000 },
    ]) {
      const result = step(disablementMachine, snapshot, event);
      expect(rejectionOf(result)).toBe("mfa_enforced_by_organization");
      expect(result.snapshot.context).toEqual(snapshot.context);
      expect(result.intents.some((intent) => intent.type === "mfaChanged")).toBe(false);
    }
  });

  it("turns MFA off with the right code", () => {
    const result = step(disablementMachine, awaitingCode(), { type: "SUBMIT_CODE", codeMatches: true });
    expect(result.snapshot.value).toBe("disabled");
    expect(result.intents).toEqual(TURN_OFF);
  });

  it("rejects wrong and expired codes", () => {
    const wrong = step(disablementMachine, awaitingCode(), { type: "SUBMIT_CODE", codeMatches: false });
    expect(rejectionOf(wrong)).toBe("invalid_code");
    const expired = step(disablementMachine, awaitingCode(), { type: "SUBMIT_CODE", codeMatches: true, now: START + 10 * 60_000 });
    expect(rejectionOf(expired)).toBe("code_expired");
    let snapshot = awaitingCode();
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      snapshot = step(disablementMachine, snapshot, { type: "SUBMIT_CODE", codeMatches: false }).snapshot;
    }
    const locked = step(disablementMachine, snapshot, { type: "SUBMIT_CODE", codeMatches: false });
    expect(locked.snapshot.value).toBe("locked");
    expect(rejectionOf(locked)).toBe("too_many_attempts");
  });

  it("resends after the cooldown only, up to five codes", () => {
    expect(rejectionOf(step(disablementMachine, awaitingCode(), { type: "RESEND_CODE", newCode: OTHER_CODE }))).toBe("resend_too_soon");
    let snapshot = awaitingCode();
    for (let resend = 1; resend <= 4; resend += 1) {
      snapshot = step(disablementMachine, snapshot, { type: "RESEND_CODE", newCode: OTHER_CODE, now: START + resend * 60_000 }).snapshot;
    }
    expect(rejectionOf(step(disablementMachine, snapshot, { type: "RESEND_CODE", newCode: CODE, now: START + 5 * 60_000 }))).toBe("resend_limit_reached");
  });

  it("cancels and expires", () => {
    expect(step(disablementMachine, start(disablementMachine), { type: "CANCEL" }).snapshot.value).toBe("cancelled");
    expect(step(disablementMachine, awaitingCode(), { type: "CANCEL" }).snapshot.value).toBe("cancelled");
    expect(step(disablementMachine, start(disablementMachine), { type: "EXPIRE", now: START + 15 * 60_000 }).snapshot.value).toBe("expired");
  });
});
