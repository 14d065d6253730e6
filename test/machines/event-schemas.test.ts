/** The schemas of the events that clients send: each kind accepts its own events, strictly. */
import { describe, expect, it } from "vitest";
import {
  CODE_PATTERN,
  disablementEventSchema,
  enrollmentEventSchema,
  loginEventSchema,
  passwordSchema,
  submitCodeSchema,
} from "../../machines/index.js";

const CREDENTIALS = { type: "SUBMIT_CREDENTIALS", email: "ada@example.com", password: "correct horse battery" };

/** Builds an address of `length` characters that zod's email format accepts. */
function emailOfLength(length: number): string {
  const domain = `${"b".repeat(length - "a@".length - ".com".length)}.com`;
  return `a@${domain}`;
}

describe("code pattern", () => {
  it("accepts six ASCII digits", () => {
    for (const code of ["123456", "000000", "999999"]) {
      expect(CODE_PATTERN.test(code)).toBe(true);
    }
  });

  it("rejects anything else", () => {
    for (const code of ["12345", "1234567", "a123456", "123456a", "12 456", "", "١٢٣٤٥٦", "abcdef"]) {
      expect(CODE_PATTERN.test(code)).toBe(false);
    }
  });

  it("names the rule in the schema's message", () => {
    const parsed = submitCodeSchema.safeParse({ type: "SUBMIT_CODE", code: "12345" });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.message)).toEqual(["must be 6 ASCII digits"]);
  });
});

describe("password schema", () => {
  it("accepts 1 to 1024 characters", () => {
    expect(passwordSchema.safeParse("x").success).toBe(true);
    expect(passwordSchema.safeParse("x".repeat(1024)).success).toBe(true);
  });

  it("rejects an empty or longer password", () => {
    expect(passwordSchema.safeParse("").success).toBe(false);
    expect(passwordSchema.safeParse("x".repeat(1025)).success).toBe(false);
  });
});

describe("login event schema", () => {
  it("accepts each login event", () => {
    for (const event of [
      CREDENTIALS,
      { ...CREDENTIALS, deviceToken: "t" },
      { type: "SUBMIT_CODE", code: "123456" },
      { type: "SUBMIT_CODE", code: "123456", rememberDevice: true },
      { type: "RESEND_CODE" },
      { type: "CANCEL" },
    ]) {
      expect(loginEventSchema.safeParse(event).success, JSON.stringify(event)).toBe(true);
    }
  });

  it("accepts an email of up to 254 characters", () => {
    expect(loginEventSchema.safeParse({ ...CREDENTIALS, email: emailOfLength(254) }).success).toBe(true);
    expect(loginEventSchema.safeParse({ ...CREDENTIALS, email: emailOfLength(255) }).success).toBe(false);
  });

  it("accepts a device token of 1 to 256 characters", () => {
    expect(loginEventSchema.safeParse({ ...CREDENTIALS, deviceToken: "t".repeat(256) }).success).toBe(true);
    expect(loginEventSchema.safeParse({ ...CREDENTIALS, deviceToken: "" }).success).toBe(false);
    expect(loginEventSchema.safeParse({ ...CREDENTIALS, deviceToken: "t".repeat(257) }).success).toBe(false);
  });

  it("rejects other events and fields", () => {
    for (const event of [
      { type: "SUBMIT_PASSWORD", password: "correct horse battery" },
      { ...CREDENTIALS, userId: "user-1" },
      { type: "SUBMIT_CODE", code: "123456", codeMatches: true },
      { type: "RESEND_CODE", now: 0 },
      { type: "CANCEL", reason: "x" },
    ]) {
      expect(loginEventSchema.safeParse(event).success, JSON.stringify(event)).toBe(false);
    }
  });
});

describe.each([
  { kind: "enrollment", schema: enrollmentEventSchema },
  { kind: "disablement", schema: disablementEventSchema },
])("$kind event schema", ({ schema }) => {
  it("accepts each event of the kind", () => {
    for (const event of [
      { type: "SUBMIT_PASSWORD", password: "correct horse battery" },
      { type: "SUBMIT_CODE", code: "123456" },
      { type: "RESEND_CODE" },
      { type: "CANCEL" },
    ]) {
      expect(schema.safeParse(event).success, JSON.stringify(event)).toBe(true);
    }
  });

  it("rejects invalid and login-only events", () => {
    for (const event of [
      CREDENTIALS,
      { type: "SUBMIT_PASSWORD", password: "" },
      { type: "SUBMIT_PASSWORD", password: "correct horse battery", passwordValid: true },
      { type: "SUBMIT_CODE", code: "123456", rememberDevice: true },
      { type: "SUBMIT_CODE", code: "12345" },
    ]) {
      expect(schema.safeParse(event).success, JSON.stringify(event)).toBe(false);
    }
  });
});
