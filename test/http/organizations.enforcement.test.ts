/**
 * Enforcement of MFA by an organization, read from the database at every sign-in: members
 * are asked for a code, trusted devices still skip it, and password-only sessions end.
 */
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, sessions } from "../../db/schema.js";
import { hashToken } from "../../src/crypto.js";
import type { OrganizationRow, UserRow } from "../../src/sessions.js";
import { isCodeRequired } from "../../src/users.js";
import { type TestApp, createTestApp, readCode } from "../support/app.js";
import { DAY, MINUTE } from "../support/clock.js";
import { createFlow, register, registerWithMfa, sendEvent, signIn, submitCredentials } from "../support/flows.js";
import { readSubjects } from "../support/mail.js";
import {
  OPERATOR_ENV,
  addMember,
  createEnforcingOrganization,
  createOrganization,
  setEnforcement,
} from "../support/operator.js";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({ env: OPERATOR_ENV });
});
afterAll(() => app.close());

/** Returns how the session of a token signed in, as stored. */
async function storedMethod(token: string): Promise<string | null> {
  const [row] = await app.services.db
    .select({ method: sessions.authenticationMethod })
    .from(sessions)
    .where(eq(sessions.tokenHash, hashToken(token)));
  return row?.method ?? null;
}

describe("isCodeRequired", () => {
  const user = { mfaEnabled: false } as UserRow;
  const enforcing = { mfaEnforced: true } as OrganizationRow;
  const relaxed = { mfaEnforced: false } as OrganizationRow;

  it.each([
    ["MFA off, no organization", user, null, false],
    ["MFA off, organization not enforcing", user, relaxed, false],
    ["MFA off, organization enforcing", user, enforcing, true],
    ["MFA on, no organization", { ...user, mfaEnabled: true }, null, true],
    ["MFA on, organization not enforcing", { ...user, mfaEnabled: true }, relaxed, true],
  ])("%s", (_, userRow, organization, expected) => {
    expect(isCodeRequired({ user: userRow, organization })).toBe(expected);
  });
});

describe("sign-in of a member", () => {
  it("asks for a code only while enforced", async () => {
    const member = await register(app);
    const organization = await createOrganization(app);
    await addMember(app, organization.id, member.id);

    const before = await submitCredentials(app, member.email);
    expect(before.response.body.state, JSON.stringify(before.response.body)).toBe("authenticated");

    await setEnforcement(app, organization.id, true);
    const enforced = await submitCredentials(app, member.email);
    expect(enforced.response.status, JSON.stringify(enforced.response.body)).toBe(200);
    expect(enforced.response.body.state).toBe("awaitingCode");
    expect(enforced.response.body.output).toBeUndefined();
    const code = await readCode(app, member.email);
    const done = await sendEvent(app, enforced.flowId, { type: "SUBMIT_CODE", code });
    expect(done.body.state, JSON.stringify(done.body)).toBe("authenticated");
    const me = await app.request("GET", "/v1/me", undefined, { token: done.body.output.sessionToken });
    expect(me.body).toMatchObject({ mfaEnabled: false, mfaRequired: true });
    expect(await storedMethod(done.body.output.sessionToken)).toBe("code");

    await setEnforcement(app, organization.id, false);
    const after = await submitCredentials(app, member.email);
    expect(after.response.body.state, JSON.stringify(after.response.body)).toBe("authenticated");
  });

  it("decides at the credentials, not at flow creation", async () => {
    const member = await register(app);
    const organization = await createOrganization(app);
    await addMember(app, organization.id, member.id);
    const flow = await createFlow(app, "login");

    await setEnforcement(app, organization.id, true);
    const response = await sendEvent(app, flow.id, {
      type: "SUBMIT_CREDENTIALS",
      email: member.email,
      password: "correct horse battery staple",
    });

    expect(response.body.state, JSON.stringify(response.body)).toBe("awaitingCode");
  });

  it("asks a user who joins an enforcing organization", async () => {
    const founder = await register(app);
    const organization = await createEnforcingOrganization(app, founder.id);
    const member = await register(app);

    await addMember(app, organization.id, member.id);
    const { response } = await submitCredentials(app, member.email);

    expect(response.body.state, JSON.stringify(response.body)).toBe("awaitingCode");
  });

  it("stops asking a member who leaves", async () => {
    const member = await register(app);
    const organization = await createEnforcingOrganization(app, member.id);

    const removed = await app.request(
      "DELETE",
      `/v1/admin/organizations/${organization.id}/members/${member.id}`,
      undefined,
      { token: OPERATOR_ENV.ADMIN_TOKEN },
    );
    expect(removed.status, JSON.stringify(removed.body)).toBe(204);
    const { response } = await submitCredentials(app, member.email);

    expect(response.body.state, JSON.stringify(response.body)).toBe("authenticated");
  });

  it("skips the code on a trusted device for 14 days", async () => {
    const member = await register(app);
    await createEnforcingOrganization(app, member.id);
    const output = await signIn(app, member.email, true);
    expect(output.deviceToken).toBeDefined();

    app.clock.advance(14 * DAY - MINUTE);
    const within = await submitCredentials(app, member.email, { deviceToken: output.deviceToken });
    expect(within.response.body.state, JSON.stringify(within.response.body)).toBe("authenticated");
    expect(await storedMethod(within.response.body.output.sessionToken)).toBe("trusted_device");

    app.clock.advance(2 * MINUTE);
    const after = await submitCredentials(app, member.email, { deviceToken: output.deviceToken });
    expect(after.response.body.state, JSON.stringify(after.response.body)).toBe("awaitingCode");
  });
});

describe("GET /v1/me of a member", () => {
  it("shows each change at once", async () => {
    const member = await register(app);
    const organization = await createEnforcingOrganization(app, member.id, "Initech");
    const { sessionToken } = await signIn(app, member.email);

    const enforced = await app.request("GET", "/v1/me", undefined, { token: sessionToken });
    expect(enforced.status, JSON.stringify(enforced.body)).toBe(200);
    expect(enforced.body).toEqual({
      id: member.id,
      email: member.email,
      mfaEnabled: false,
      mfaRequired: true,
      organization: { id: organization.id, name: "Initech", mfaEnforced: true },
    });

    await setEnforcement(app, organization.id, false);
    const relaxed = await app.request("GET", "/v1/me", undefined, { token: sessionToken });
    expect(relaxed.body.mfaRequired).toBe(false);
    expect(relaxed.body.organization).toEqual({ id: organization.id, name: "Initech", mfaEnforced: false });
  });
});

describe("sessions when enforcement starts", () => {
  it("ends password-only sessions of members", async () => {
    const member = await register(app);
    const outsider = await register(app);
    const organization = await createEnforcingOrganization(app, member.id);
    const withCode = await signIn(app, member.email, true);
    const withDevice = await submitCredentials(app, member.email, { deviceToken: withCode.deviceToken });
    const deviceToken = withDevice.response.body.output.sessionToken as string;
    await setEnforcement(app, organization.id, false);
    const withPassword = await signIn(app, member.email);
    const outsiderSession = await signIn(app, outsider.email);

    await setEnforcement(app, organization.id, true);

    const password = await app.request("GET", "/v1/me", undefined, { token: withPassword.sessionToken });
    expect(password.status, JSON.stringify(password.body)).toBe(401);
    expect(password.body.error.code).toBe("unauthenticated");
    const code = await app.request("GET", "/v1/me", undefined, { token: withCode.sessionToken });
    expect(code.status, JSON.stringify(code.body)).toBe(200);
    const device = await app.request("GET", "/v1/me", undefined, { token: deviceToken });
    expect(device.status, JSON.stringify(device.body)).toBe(200);
    const other = await app.request("GET", "/v1/me", undefined, { token: outsiderSession.sessionToken });
    expect(other.status, JSON.stringify(other.body)).toBe(200);

    const stored = await app.services.db.select().from(sessions).where(eq(sessions.userId, member.id));
    const revoked = stored.filter((row) => row.revokedAt !== null).map((row) => row.authenticationMethod);
    expect(revoked).toEqual(["password"]);
  });

  it("ends password-only sessions of a joining user", async () => {
    const founder = await register(app);
    const organization = await createEnforcingOrganization(app, founder.id);
    const joining = await registerWithMfa(app);
    const newcomer = await register(app);
    const password = await signIn(app, newcomer.email);

    await addMember(app, organization.id, newcomer.id);
    await addMember(app, organization.id, joining.id);

    const ended = await app.request("GET", "/v1/me", undefined, { token: password.sessionToken });
    expect(ended.status, JSON.stringify(ended.body)).toBe(401);
    const kept = await app.request("GET", "/v1/me", undefined, { token: joining.token });
    expect(kept.status, JSON.stringify(kept.body)).toBe(200);
  });

  it("keeps sessions of a user joining a relaxed organization", async () => {
    const member = await register(app);
    const organization = await createOrganization(app);
    const { sessionToken } = await signIn(app, member.email);

    await addMember(app, organization.id, member.id);

    const me = await app.request("GET", "/v1/me", undefined, { token: sessionToken });
    expect(me.status, JSON.stringify(me.body)).toBe(200);
    expect(me.body.organization.mfaEnforced).toBe(false);
    expect(me.body.mfaRequired).toBe(false);
  });
});

describe("enforcement racing with new members", () => {
  it("ends password sessions of every member", async () => {
    const organization = await createOrganization(app);
    const joining = [];
    for (let index = 0; index < 6; index += 1) {
      const user = await register(app);
      const { sessionToken } = await signIn(app, user.email);
      joining.push({ ...user, sessionToken: sessionToken! });
    }

    await Promise.all([
      setEnforcement(app, organization.id, true),
      ...joining.map((user) => addMember(app, organization.id, user.id)),
    ]);

    for (const user of joining) {
      const me = await app.request("GET", "/v1/me", undefined, { token: user.sessionToken });
      expect(me.status, `${user.email}: ${JSON.stringify(me.body)}`).toBe(401);
    }
  });
});

describe("enforcement notifications", () => {
  it("mails every member when enforcement starts and stops", async () => {
    const first = await register(app);
    const second = await register(app);
    const outsider = await register(app);
    const organization = await createOrganization(app, "Globex");
    await addMember(app, organization.id, first.id);
    await addMember(app, organization.id, second.id);

    const enforced = await setEnforcement(app, organization.id, true);
    expect(enforced).toEqual({ id: organization.id, name: "Globex", mfaEnforced: true, memberCount: 2 });
    await setEnforcement(app, organization.id, false);

    for (const member of [first, second]) {
      expect(await readSubjects(app, member.email)).toEqual([
        "Globex no longer requires two-step verification",
        "Globex now requires two-step verification",
      ]);
    }
    expect(await readSubjects(app, outsider.email)).toEqual([]);
  });

  it("changes nothing when the value is unchanged", async () => {
    const member = await register(app);
    const organization = await createOrganization(app);
    await addMember(app, organization.id, member.id);

    const unchanged = await setEnforcement(app, organization.id, false);

    expect(unchanged.mfaEnforced).toBe(false);
    expect(await readSubjects(app, member.email)).toEqual([]);
    const audit = await app.services.db
      .select()
      .from(auditEvents)
      .where(
        and(eq(auditEvents.organizationId, organization.id), eq(auditEvents.type, "organization_enforcement_changed")),
      );
    expect(audit).toEqual([]);
  });

  it("writes an audit row for each change", async () => {
    const member = await register(app);
    const { sessionToken } = await signIn(app, member.email);
    const organization = await createOrganization(app);
    await addMember(app, organization.id, member.id);

    await setEnforcement(app, organization.id, true);

    const rows = await app.services.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.organizationId, organization.id))
      .orderBy(auditEvents.id);
    expect(rows.map((row) => [row.actor, row.type])).toEqual([
      ["operator", "organization_created"],
      ["operator", "organization_member_added"],
      ["operator", "organization_enforcement_changed"],
    ]);
    expect(rows[2]?.details).toEqual({ mfaEnforced: true, memberCount: 1, sessionsRevoked: 1 });
    const ended = await app.request("GET", "/v1/me", undefined, { token: sessionToken });
    expect(ended.status).toBe(401);
  });
});
