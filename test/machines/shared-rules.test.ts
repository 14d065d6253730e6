/** The pure rules in machines/shared.ts that the machines do not reach through a transition. */
import { describe, expect, it } from "vitest";
import { attemptsRemaining, createFlowContext, flowGuards, maskEmail } from "../../machines/index.js";
import { START } from "./support.js";

describe("attemptsRemaining", () => {
  it("counts down from the limit", () => {
    const context = createFlowContext(START, null);
    expect(attemptsRemaining(context)).toBe(5);
    expect(attemptsRemaining({ ...context, wrongSubmissions: 2 })).toBe(3);
    expect(attemptsRemaining({ ...context, wrongSubmissions: 5 })).toBe(0);
  });

  it("never goes below zero", () => {
    const context = createFlowContext(START, null);
    expect(attemptsRemaining({ ...context, wrongSubmissions: 7 })).toBe(0);
  });
});

describe("maskEmail", () => {
  it("keeps the first character and the domain", () => {
    expect(maskEmail("alice@example.com")).toBe("a***@example.com");
  });

  it("masks from the last @", () => {
    expect(maskEmail('"a@b"@example.com')).toBe('"***@example.com');
  });

  it("shows no character of an empty local part", () => {
    expect(maskEmail("@example.com")).toBe("***@example.com");
  });
});

describe("isCodeCorrect guard", () => {
  const context = createFlowContext(START, "user-1");

  it("accepts a matching code", () => {
    expect(flowGuards.isCodeCorrect({ context, event: { type: "SUBMIT_CODE", now: START, codeMatches: true } })).toBe(true);
  });

  it("rejects a code that does not match", () => {
    expect(flowGuards.isCodeCorrect({ context, event: { type: "SUBMIT_CODE", now: START, codeMatches: false } })).toBe(false);
  });

  it("rejects a match claimed by another event type", () => {
    expect(flowGuards.isCodeCorrect({ context, event: { type: "RESEND_CODE", now: START, codeMatches: true } })).toBe(false);
  });
});
