/** The operator API with a valid token: users, MFA resets, sessions and organizations. */
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, sessions, trustedDevices, users } from "../../db/schema.js";
import { PASSWORD, type TestApp, createTestApp } from "../support/app.js";
import { register, registerWithMfa, signIn, submitCredentials, uniqueEmail } from "../support/flows.js";
import { readSubjects } from "../support/mail.js";
import { OPERATOR_ENV, addMember, createOrganization, operatorRequest } from "../support/operator.js";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({ env: OPERATOR_ENV });
});
afterAll(() => app.close());

async function auditTypes(userId: string): Promise<string[]> {
  const rows = await app.services.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.userId, userId), eq(auditEvents.actor, "operator")))
    .orderBy(auditEvents.id);
  return rows.map((row) => row.type);
}

describe("POST /v1/admin/users", () => {
  it("creates a user while registration is closed", async () => {
    const closedApp = await createTestApp({ env: { ...OPERATOR_ENV, REGISTRATION: "closed" } });
    try {
      const closed = await closedApp.request("POST", "/v1/users", { email: uniqueEmail(), password: PASSWORD });
      expect(closed.status, JSON.stringify(closed.body)).toBe(404);

      const email = uniqueEmail("Created");
      const response = await operatorRequest(closedApp, "POST", "/v1/admin/users", { email, password: PASSWORD });

      expect(response.status, JSON.stringify(response.body)).toBe(201);
      expect(response.body).toEqual({ id: expect.any(String), email: email.toLowerCase(), mfaEnabled: false });
      const { response: login } = await submitCredentials(closedApp, email);
      expect(login.body.state, JSON.stringify(login.body)).toBe("authenticated");
      const [audit] = await closedApp.services.db
        .select()
        .from(auditEvents)
        .where(eq(auditEvents.userId, response.body.id));
      expect(audit).toMatchObject({ actor: "operator", type: "user_created" });
    } finally {
      await closedApp.close();
    }
  });

  it("answers 409 to a taken address", async () => {
    const user = await register(app);

    const response = await operatorRequest(app, "POST", "/v1/admin/users", {
      email: user.email.toUpperCase(),
      password: PASSWORD,
    });

    expect(response.status, JSON.stringify(response.body)).toBe(409);
    expect(response.body.error.code).toBe("email_taken");
  });

  it.each([
    ["no password", { email: "a@example.com" }],
    ["a short password", { email: "a@example.com", password: "short" }],
    ["an invalid email", { email: "not an email", password: PASSWORD }],
    ["an unknown field", { email: "a@example.com", password: PASSWORD, mfaEnabled: true }],
    ["an array", [1, 2]],
  ])("answers 400 to %s", async (_, body) => {
    const response = await operatorRequest(app, "POST", "/v1/admin/users", body);

    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
  });

  it("answers 400 to malformed JSON", async () => {
    const response = await operatorRequest(app, "POST", "/v1/admin/users", "{not json");

    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
  });
});

describe("POST /v1/admin/users/{id}/mfa-reset", () => {
  it("turns MFA off and revokes devices and sessions", async () => {
    const user = await registerWithMfa(app);
    const remembered = await signIn(app, user.email, true);

    const response = await operatorRequest(app, "POST", `/v1/admin/users/${user.id}/mfa-reset`);

    expect(response.status, JSON.stringify(response.body)).toBe(204);
    const [stored] = await app.services.db.select().from(users).where(eq(users.id, user.id));
    expect(stored?.mfaEnabled).toBe(false);
    const devices = await app.services.db.select().from(trustedDevices).where(eq(trustedDevices.userId, user.id));
    expect(devices.length).toBe(1);
    expect(devices.every((device) => device.revokedAt !== null)).toBe(true);
    const live = await app.services.db.select().from(sessions).where(eq(sessions.userId, user.id));
    expect(live.every((session) => session.revokedAt !== null)).toBe(true);
    const me = await app.request("GET", "/v1/me", undefined, { token: remembered.sessionToken });
    expect(me.status).toBe(401);
    expect((await readSubjects(app, user.email))[0]).toBe("Two-step verification was reset");
    const [audit] = await app.services.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.userId, user.id), eq(auditEvents.type, "mfa_reset")));
    expect(audit?.actor).toBe("operator");
    expect(audit?.details).toEqual({ mfaWasEnabled: true, trustedDevicesRevoked: 1, sessionsRevoked: 3 });

    const { response: login } = await submitCredentials(app, user.email, { deviceToken: remembered.deviceToken });
    expect(login.body.state, JSON.stringify(login.body)).toBe("authenticated");
  });

  it("answers 404 to an unknown user", async () => {
    const response = await operatorRequest(app, "POST", "/v1/admin/users/no-such-user/mfa-reset");

    expect(response.status, JSON.stringify(response.body)).toBe(404);
    expect(response.body.error.code).toBe("not_found");
  });
});

describe("DELETE /v1/admin/users/{id}/sessions", () => {
  it("revokes every session of the user only", async () => {
    const user = await register(app);
    const other = await register(app);
    const first = await signIn(app, user.email);
    const second = await signIn(app, user.email);
    const kept = await signIn(app, other.email);

    const response = await operatorRequest(app, "DELETE", `/v1/admin/users/${user.id}/sessions`);

    expect(response.status, JSON.stringify(response.body)).toBe(204);
    for (const token of [first.sessionToken, second.sessionToken]) {
      const me = await app.request("GET", "/v1/me", undefined, { token });
      expect(me.status).toBe(401);
    }
    const otherMe = await app.request("GET", "/v1/me", undefined, { token: kept.sessionToken });
    expect(otherMe.status).toBe(200);
    expect(await auditTypes(user.id)).toEqual(["sessions_revoked"]);
  });

  it("answers 404 to an unknown user", async () => {
    const response = await operatorRequest(app, "DELETE", "/v1/admin/users/no-such-user/sessions");

    expect(response.status, JSON.stringify(response.body)).toBe(404);
    expect(response.body.error.code).toBe("not_found");
  });
});

describe("organizations", () => {
  it("creates and reads an organization", async () => {
    const created = await operatorRequest(app, "POST", "/v1/admin/organizations", { name: "  Acme Corp " });

    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toEqual({ id: expect.any(String), name: "Acme Corp", mfaEnforced: false, memberCount: 0 });
    const read = await operatorRequest(app, "GET", `/v1/admin/organizations/${created.body.id}`);
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body).toEqual(created.body);
  });

  it.each([
    ["no name", {}],
    ["an empty name", { name: "   " }],
    ["a long name", { name: "x".repeat(201) }],
    ["a number", { name: 7 }],
    ["an unknown field", { name: "Acme", mfaEnforced: true }],
    ["a lone surrogate", { name: "a\ud800b" }],
  ])("answers 400 to %s at creation", async (_, body) => {
    const response = await operatorRequest(app, "POST", "/v1/admin/organizations", body);

    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
  });

  it.each([
    ["no field", {}],
    ["a string", { mfaEnforced: "true" }],
    ["an unknown field", { mfaEnforced: true, name: "Renamed" }],
  ])("answers 400 to %s at update", async (_, body) => {
    const organization = await createOrganization(app);

    const response = await operatorRequest(app, "PATCH", `/v1/admin/organizations/${organization.id}`, body);

    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
  });

  it("answers 415 to a body that is not JSON", async () => {
    const response = await app.request("POST", "/v1/admin/organizations", "name=Acme", {
      token: OPERATOR_ENV.ADMIN_TOKEN,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });

    expect(response.status, JSON.stringify(response.body)).toBe(415);
    expect(response.body.error.code).toBe("unsupported_media_type");
  });

  it.each([
    ["GET", "/v1/admin/organizations/no-such-organization", undefined],
    ["PATCH", "/v1/admin/organizations/no-such-organization", { mfaEnforced: true }],
    ["PUT", "/v1/admin/organizations/no-such-organization/members/no-such-user", undefined],
    ["DELETE", "/v1/admin/organizations/no-such-organization/members/no-such-user", undefined],
  ])("answers 404 to %s %s", async (method, path, body) => {
    const response = await operatorRequest(app, method, path, body);

    expect(response.status, JSON.stringify(response.body)).toBe(404);
    expect(response.body.error.code).toBe("not_found");
  });

  it("answers 405 to another method", async () => {
    const organization = await createOrganization(app);

    const response = await operatorRequest(app, "DELETE", `/v1/admin/organizations/${organization.id}`);

    expect(response.status, JSON.stringify(response.body)).toBe(405);
    expect(response.body.error.code).toBe("method_not_allowed");
  });
});

describe("members", () => {
  it("adds and removes a member", async () => {
    const user = await register(app);
    const organization = await createOrganization(app);

    await addMember(app, organization.id, user.id);
    const again = await operatorRequest(app, "PUT", `/v1/admin/organizations/${organization.id}/members/${user.id}`);
    expect(again.status, JSON.stringify(again.body)).toBe(204);
    const read = await operatorRequest(app, "GET", `/v1/admin/organizations/${organization.id}`);
    expect(read.body.memberCount).toBe(1);

    const removed = await operatorRequest(
      app,
      "DELETE",
      `/v1/admin/organizations/${organization.id}/members/${user.id}`,
    );
    expect(removed.status, JSON.stringify(removed.body)).toBe(204);
    const after = await operatorRequest(app, "GET", `/v1/admin/organizations/${organization.id}`);
    expect(after.body.memberCount).toBe(0);
    expect(await auditTypes(user.id)).toEqual([
      "organization_member_added",
      "organization_member_removed",
    ]);
  });

  it("answers 404 to an unknown user", async () => {
    const organization = await createOrganization(app);

    const response = await operatorRequest(
      app,
      "PUT",
      `/v1/admin/organizations/${organization.id}/members/no-such-user`,
    );

    expect(response.status, JSON.stringify(response.body)).toBe(404);
    expect(response.body.error.code).toBe("not_found");
  });

  it("answers 404 to removing a non-member", async () => {
    const user = await register(app);
    const organization = await createOrganization(app);
    const other = await createOrganization(app, "Other");
    await addMember(app, other.id, user.id);

    const response = await operatorRequest(
      app,
      "DELETE",
      `/v1/admin/organizations/${organization.id}/members/${user.id}`,
    );

    expect(response.status, JSON.stringify(response.body)).toBe(404);
    expect(response.body.error.code).toBe("not_found");
    const [stored] = await app.services.db.select().from(users).where(eq(users.id, user.id));
    expect(stored?.organizationId).toBe(other.id);
  });

  it("answers 409 to a member of another organization", async () => {
    const user = await register(app);
    const first = await createOrganization(app, "First");
    const second = await createOrganization(app, "Second");
    await addMember(app, first.id, user.id);

    const response = await operatorRequest(app, "PUT", `/v1/admin/organizations/${second.id}/members/${user.id}`);

    expect(response.status, JSON.stringify(response.body)).toBe(409);
    expect(response.body.error.code).toBe("member_of_another_organization");
    expect(response.body.error.organizationId).toBe(first.id);
    const [stored] = await app.services.db.select().from(users).where(eq(users.id, user.id));
    expect(stored?.organizationId).toBe(first.id);
  });
});
