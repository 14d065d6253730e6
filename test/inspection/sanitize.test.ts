/**
 * The allow-lists of what a flow shows an inspector. A field that is not listed, or a listed
 * field whose value is not plain, stays in the process whatever its name.
 */
import { describe, expect, it } from "vitest";
import { createFlowContext } from "../../machines/index.js";
import { REDACTED, inspectionSessionId, toInspectedContext, toInspectedEvent } from "../../src/inspection/sanitize.js";

describe("toInspectedContext", () => {
  it("keeps the listed fields", () => {
    const context = { ...createFlowContext(1_000, "user-1"), sentTo: "a***@example.com", codesSent: 2 };

    expect(toInspectedContext(context)).toEqual({
      userId: "user-1",
      sentTo: "a***@example.com",
      expiresAt: context.expiresAt,
      wrongSubmissions: 0,
      codeExpiresAt: null,
      codesSent: 2,
      resendAvailableAt: null,
      limits: context.limits,
      codeHash: null,
    });
  });

  it("shows only whether a code is outstanding", () => {
    const context = { ...createFlowContext(1_000, null), codeHash: "a".repeat(64) };
    expect(toInspectedContext(context).codeHash).toBe(REDACTED);
  });

  it("drops unlisted and non-plain fields", () => {
    const context = { ...createFlowContext(1_000, null), sessionToken: "secret", userId: { token: "secret" } };
    const inspected = toInspectedContext(context);

    expect(inspected).not.toHaveProperty("sessionToken");
    expect(inspected).not.toHaveProperty("userId");
    expect(JSON.stringify(inspected)).not.toContain("secret");
  });
});

describe("toInspectedEvent", () => {
  it("keeps the type and the facts", () => {
    const event = { type: "SUBMIT_CODE", now: 5, codeMatches: true, rememberDevice: false, signInPaused: false };
    expect(toInspectedEvent(event)).toEqual(event);
  });

  it("drops what the client sent", () => {
    const event = {
      type: "SUBMIT_CREDENTIALS",
      email: "ada@example.com",
      password: "correct horse battery",
      deviceToken: "device-token",
      code: "123456",
      newCode: { code: "654321", hash: "b".repeat(64) },
    };
    const inspected = toInspectedEvent(event);

    expect(inspected).toEqual({ type: "SUBMIT_CREDENTIALS", newCode: REDACTED });
  });

  it("gives an event without a type one", () => {
    expect(toInspectedEvent({ type: 7 }).type).toBe("unknown");
  });
});

describe("inspectionSessionId", () => {
  it("shortens login flow ids only", () => {
    expect(inspectionSessionId("login", "abcdefghijklmnop")).toBe("abcdefgh");
    expect(inspectionSessionId("enrollment", "abcdefghijklmnop")).toBe("abcdefghijklmnop");
  });
});
