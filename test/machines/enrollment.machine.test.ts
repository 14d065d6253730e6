/** The enrollment machine through pure transitions, with every guard branch. */
import { describe, expect, it } from "vitest";
import { enrollmentMachine } from "../../machines/index.js";
import { CODE, OTHER_CODE, START, contextOf, rejectionOf, start, step } from "./support.js";

const password = (passwordValid: boolean) => ({
  type: "SUBMIT_PASSWORD",
  passwordValid,
  sentTo: "a***@example.com",
  newCode: CODE,
});

function awaitingCode() {
  return step(enrollmentMachine, start(enrollmentMachine, "user-1"), password(true)).snapshot;
}

describe("enrollment", () => {
  it("sends a code after the right password", () => {
    const result = step(enrollmentMachine, start(enrollmentMachine, "user-1"), password(true));
    expect(result.snapshot.value).toBe("awaitingCode");
    expect(result.intents).toEqual([{ type: "codeIssued", code: CODE.code, purpose: "enrollment" }]);
    expect(contextOf(result.snapshot).sentTo).toBe("a***@example.com");
  });

  it("rejects a wrong password and locks on the fifth", () => {
    let snapshot = start(enrollmentMachine, "user-1");
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      const result = step(enrollmentMachine, snapshot, password(false));
      expect(rejectionOf(result)).toBe("invalid_password");
      snapshot = result.snapshot;
    }
    const result = step(enrollmentMachine, snapshot, password(false));
    expect(result.snapshot.value).toBe("locked");
    expect(rejectionOf(result)).toBe("too_many_attempts");
  });

  it("turns MFA on with the right code and ends other sessions", () => {
    const result = step(enrollmentMachine, awaitingCode(), { type: "SUBMIT_CODE", codeMatches: true });
    expect(result.snapshot.value).toBe("enabled");
    expect(result.intents).toEqual([{ type: "mfaChanged", enabled: true }, { type: "otherSessionsEnded" }]);
  });

  it("rejects a wrong code, then locks", () => {
    let snapshot = awaitingCode();
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      const result = step(enrollmentMachine, snapshot, { type: "SUBMIT_CODE", codeMatches: false });
      expect(rejectionOf(result)).toBe("invalid_code");
      snapshot = result.snapshot;
    }
    const result = step(enrollmentMachine, snapshot, { type: "SUBMIT_CODE", codeMatches: false });
    expect(result.snapshot.value).toBe("locked");
    expect(result.intents.some((intent) => intent.type === "mfaChanged")).toBe(false);
  });

  it("rejects an expired code without spending an attempt", () => {
    const result = step(enrollmentMachine, awaitingCode(), { type: "SUBMIT_CODE", codeMatches: true, now: START + 10 * 60_000 });
    expect(rejectionOf(result)).toBe("code_expired");
    expect(contextOf(result.snapshot).wrongSubmissions).toBe(0);
  });

  it("resends after the cooldown only, up to five codes", () => {
    const early = step(enrollmentMachine, awaitingCode(), { type: "RESEND_CODE", newCode: OTHER_CODE });
    expect(rejectionOf(early)).toBe("resend_too_soon");
    let snapshot = awaitingCode();
    for (let resend = 1; resend <= 4; resend += 1) {
      const result = step(enrollmentMachine, snapshot, { type: "RESEND_CODE", newCode: OTHER_CODE, now: START + resend * 60_000 });
      expect(result.intents).toEqual([{ type: "codeIssued", code: OTHER_CODE.code, purpose: "enrollment" }]);
      snapshot = result.snapshot;
    }
    const result = step(enrollmentMachine, snapshot, { type: "RESEND_CODE", newCode: CODE, now: START + 5 * 60_000 });
    expect(rejectionOf(result)).toBe("resend_limit_reached");
  });

  it("cancels and expires", () => {
    expect(step(enrollmentMachine, start(enrollmentMachine), { type: "CANCEL" }).snapshot.value).toBe("cancelled");
    expect(step(enrollmentMachine, awaitingCode(), { type: "CANCEL" }).snapshot.value).toBe("cancelled");
    expect(step(enrollmentMachine, awaitingCode(), { type: "EXPIRE", now: START + 15 * 60_000 }).snapshot.value).toBe("expired");
  });

  it("does not accept a code before the password", () => {
    expect(start(enrollmentMachine).can({ type: "SUBMIT_CODE", now: START, codeMatches: true })).toBe(false);
  });
});
