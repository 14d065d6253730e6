/**
 * The facts that the runtime hands to the machines. A wrong fact here lets a wrong password,
 * a wrong code or another user's device token through even when every machine is right. So
 * each fact is checked for the case that must be rejected as well as for the one that passes.
 */
import { describe, expect, it } from "vitest";
import { type FlowContext, type IssuedCode, createFlowContext } from "../../machines/shared.js";
import { deriveKeys, hashCode, isCodeMatching } from "../../src/crypto.js";
import { type EventFactSources, buildMachineEvent } from "../../src/flows/event-facts.js";
import type { AuthenticatedSession } from "../../src/sessions.js";
import type { UserWithOrganization } from "../../src/users.js";

const NOW = new Date("2026-01-05T09:00:00.000Z");
const MINUTE = 60_000;
const { codeKey } = deriveKeys("s".repeat(32));
const FLOW_ID = "flow-1";

function userWith(facts: { mfaEnabled?: boolean; mfaEnforced?: boolean | null } = {}): UserWithOrganization {
  const { mfaEnabled = false, mfaEnforced = null } = facts;
  return {
    user: {
      id: "user-1",
      email: "alice@example.com",
      passwordHash: "$argon2id$stored",
      mfaEnabled,
      organizationId: mfaEnforced === null ? null : "org-1",
      createdAt: NOW,
      updatedAt: NOW,
    },
    organization:
      mfaEnforced === null ? null : { id: "org-1", name: "Acme", mfaEnforced, createdAt: NOW, updatedAt: NOW },
  };
}

function sessionVerifiedAt(codeVerifiedAt: Date | null): AuthenticatedSession {
  const { user, organization } = userWith({ mfaEnabled: true });
  return {
    session: {
      id: "session-1",
      userId: user.id,
      tokenHash: "0".repeat(64),
      authenticationMethod: codeVerifiedAt ? "code" : "trusted_device",
      authenticatedAt: NOW,
      codeVerifiedAt,
      expiresAt: new Date(NOW.getTime() + 12 * 60 * MINUTE),
      revokedAt: null,
      createdAt: NOW,
    },
    user,
    organization,
  };
}

function contextWithCode(code: string | null): FlowContext {
  const context = createFlowContext(NOW.getTime(), "user-1");
  return code === null ? context : { ...context, codeHash: hashCode(codeKey, FLOW_ID, code) };
}

function build(clientEvent: EventFactSources["clientEvent"], sources: Partial<EventFactSources> = {}) {
  return buildMachineEvent({
    flowId: FLOW_ID,
    kind: "login",
    context: contextWithCode(null),
    clientEvent,
    slow: null,
    user: null,
    trust: null,
    pausedUntil: null,
    auth: null,
    now: NOW,
    codeKey,
    recentVerificationMs: 15 * MINUTE,
    ...sources,
  });
}

const CREDENTIALS = { type: "SUBMIT_CREDENTIALS", email: "alice@example.com", password: "pw" };
const PASSWORD = { type: "SUBMIT_PASSWORD", password: "pw" };

/** Asserts that the event carries a fresh six-digit code with its HMAC for this flow. */
function expectNewCode(event: Record<string, unknown>) {
  const newCode = event.newCode as IssuedCode;
  expect(newCode.code).toMatch(/^[0-9]{6}$/);
  expect(isCodeMatching(codeKey, FLOW_ID, newCode.code, newCode.hash)).toBe(true);
}

describe("SUBMIT_CREDENTIALS facts", () => {
  it("carry the user and a new code", () => {
    const event = build(CREDENTIALS, { slow: { passwordValid: true }, user: userWith() });
    expect(event).toMatchObject({
      type: "SUBMIT_CREDENTIALS",
      now: NOW.getTime(),
      userId: "user-1",
      sentTo: "a***@example.com",
      passwordValid: true,
      codeRequired: false,
      deviceTrusted: false,
      signInPaused: false,
    });
    expectNewCode(event);
  });

  it("reject a wrong password", () => {
    expect(build(CREDENTIALS, { slow: { passwordValid: false }, user: userWith() }).passwordValid).toBe(false);
  });

  it("reject any password of an unknown email", () => {
    const event = build(CREDENTIALS, { slow: { passwordValid: true }, user: null });
    expect(event.passwordValid).toBe(false);
    expect(event.userId).toBeNull();
    expect(event.sentTo).toBeNull();
    expect(event.codeRequired).toBe(true);
  });

  it("reject a password that was never checked", () => {
    expect(build(CREDENTIALS, { slow: null, user: userWith() }).passwordValid).toBe(false);
  });

  it("require a code when MFA applies", () => {
    expect(build(CREDENTIALS, { user: userWith({ mfaEnabled: true }) }).codeRequired).toBe(true);
    expect(build(CREDENTIALS, { user: userWith({ mfaEnforced: true }) }).codeRequired).toBe(true);
    expect(build(CREDENTIALS, { user: userWith({ mfaEnforced: false }) }).codeRequired).toBe(false);
  });

  it("trust only a found device", () => {
    const user = userWith({ mfaEnabled: true });
    expect(build(CREDENTIALS, { user, trust: { id: "trust-1" } }).deviceTrusted).toBe(true);
    expect(build(CREDENTIALS, { user, trust: null }).deviceTrusted).toBe(false);
  });

  it("report a sign-in pause", () => {
    expect(build(CREDENTIALS, { pausedUntil: new Date(NOW.getTime() + MINUTE) }).signInPaused).toBe(true);
  });
});

describe("SUBMIT_PASSWORD facts", () => {
  it("carry the check and a new code", () => {
    const event = build(PASSWORD, { kind: "enrollment", slow: { passwordValid: true }, user: userWith() });
    expect(event).toMatchObject({
      type: "SUBMIT_PASSWORD",
      passwordValid: true,
      sentTo: "a***@example.com",
      recentlyVerified: false,
      mfaEnforced: false,
    });
    expectNewCode(event);
  });

  it("reject a wrong or unchecked password", () => {
    expect(build(PASSWORD, { slow: { passwordValid: false }, user: userWith() }).passwordValid).toBe(false);
    expect(build(PASSWORD, { slow: null, user: userWith() }).passwordValid).toBe(false);
  });

  it("have an empty address without a user", () => {
    expect(build(PASSWORD, { kind: "enrollment" }).sentTo).toBe("");
  });

  it("count a code within the window", () => {
    const recent = sessionVerifiedAt(new Date(NOW.getTime() - 15 * MINUTE + 1));
    expect(build(PASSWORD, { kind: "disablement", auth: recent }).recentlyVerified).toBe(true);
  });

  it("ignore an older code or none", () => {
    const old = sessionVerifiedAt(new Date(NOW.getTime() - 15 * MINUTE));
    expect(build(PASSWORD, { kind: "disablement", auth: old }).recentlyVerified).toBe(false);
    const never = sessionVerifiedAt(null);
    expect(build(PASSWORD, { kind: "disablement", auth: never }).recentlyVerified).toBe(false);
  });

  it("report enforcement by the organization", () => {
    const enforced = userWith({ mfaEnabled: true, mfaEnforced: true });
    expect(build(PASSWORD, { kind: "disablement", user: enforced }).mfaEnforced).toBe(true);
  });
});

describe("SUBMIT_CODE facts", () => {
  const submit = (code: string, rememberDevice?: boolean) => ({ type: "SUBMIT_CODE", code, rememberDevice });

  it("match the outstanding code of this flow", () => {
    const event = build(submit("123456"), { context: contextWithCode("123456") });
    expect(event.codeMatches).toBe(true);
    expect(event.rememberDevice).toBe(false);
    expect(event.signInPaused).toBe(false);
    expect(event).not.toHaveProperty("newCode");
  });

  it("do not match another code", () => {
    expect(build(submit("123457"), { context: contextWithCode("123456") }).codeMatches).toBe(false);
  });

  it("do not match the code of another flow", () => {
    const event = build(submit("123456"), { flowId: "flow-2", context: contextWithCode("123456") });
    expect(event.codeMatches).toBe(false);
  });

  it("match nothing when no code is outstanding", () => {
    expect(build(submit("123456"), { context: contextWithCode(null) }).codeMatches).toBe(false);
  });

  it("remember the device only when asked", () => {
    const context = contextWithCode("123456");
    expect(build(submit("123456", true), { context }).rememberDevice).toBe(true);
    expect(build(submit("123456", false), { context }).rememberDevice).toBe(false);
  });

  it("report a sign-in pause", () => {
    const event = build(submit("123456"), { pausedUntil: new Date(NOW.getTime() + MINUTE) });
    expect(event.signInPaused).toBe(true);
  });

  it("carry enforcement in a disablement flow only", () => {
    const enforced = userWith({ mfaEnabled: true, mfaEnforced: true });
    expect(build(submit("123456"), { kind: "disablement", user: enforced }).mfaEnforced).toBe(true);
    expect(build(submit("123456"), { kind: "disablement", user: userWith() }).mfaEnforced).toBe(false);
    expect(build(submit("123456"), { kind: "enrollment", user: enforced })).not.toHaveProperty("mfaEnforced");
  });

  it("carry no enforcement once the user is gone", () => {
    expect(build(submit("123456"), { kind: "disablement", user: null }).mfaEnforced).toBe(false);
  });
});

describe("RESEND_CODE and CANCEL facts", () => {
  it("give a resend a new code", () => {
    const enforced = userWith({ mfaEnabled: true, mfaEnforced: true });
    const event = build({ type: "RESEND_CODE" }, { kind: "disablement", user: enforced });
    expect(event.mfaEnforced).toBe(true);
    expectNewCode(event);
    expect(build({ type: "RESEND_CODE" }, { kind: "login", user: enforced })).not.toHaveProperty("mfaEnforced");
  });

  it("give a cancel no facts", () => {
    const enforced = userWith({ mfaEnabled: true, mfaEnforced: true });
    for (const kind of ["login", "enrollment", "disablement"] as const) {
      expect(build({ type: "CANCEL" }, { kind, user: enforced, pausedUntil: NOW })).toEqual({
        type: "CANCEL",
        now: NOW.getTime(),
      });
    }
  });
});
