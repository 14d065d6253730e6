/** The disablement flow over the HTTP API on a real database. */
import { and, eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flows, organizations, trustedDevices, users } from "../../db/schema.js";
import { PASSWORD, type TestApp, createTestApp, readCode } from "../support/app.js";
import { MINUTE } from "../support/clock.js";
import { createFlow, register, registerWithMfa, sendEvent, signIn, submitCredentials } from "../support/flows.js";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(() => app.close());

async function mfaEnabled(userId: string): Promise<boolean> {
  const [row] = await app.services.db.select().from(users).where(eq(users.id, userId));
  return row!.mfaEnabled;
}

describe("disablement", () => {
  it("needs no new code within 15 minutes of a sign-in with a code", async () => {
    const user = await registerWithMfa(app);
    app.clock.advance(14 * MINUTE);
    const flow = await createFlow(app, "disablement", user.token);

    const response = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, user.token);

    expect(response.status).toBe(200);
    expect(response.body.state).toBe("disabled");
    expect(await mfaEnabled(user.id)).toBe(false);
  });

  it("asks for a code 15 minutes after the sign-in", async () => {
    const user = await registerWithMfa(app);
    app.clock.advance(15 * MINUTE);
    const flow = await createFlow(app, "disablement", user.token);

    const response = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, user.token);
    expect(response.body.state).toBe("awaitingCode");
    const done = await sendEvent(app, flow.id, { type: "SUBMIT_CODE", code: await readCode(app, user.email) }, user.token);

    expect(done.body.state).toBe("disabled");
    expect(await mfaEnabled(user.id)).toBe(false);
  });

  it("asks a trusted-device session for a code and revokes every trust", async () => {
    const user = await registerWithMfa(app);
    const remembered = await signIn(app, user.email, true);
    const { response } = await submitCredentials(app, user.email, { deviceToken: remembered.deviceToken });
    expect(response.body.state).toBe("authenticated");
    const token = response.body.output.sessionToken;

    const flow = await createFlow(app, "disablement", token);
    const password = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, token);
    expect(password.body.state).toBe("awaitingCode");
    await sendEvent(app, flow.id, { type: "SUBMIT_CODE", code: await readCode(app, user.email) }, token);

    const live = await app.services.db
      .select()
      .from(trustedDevices)
      .where(and(eq(trustedDevices.userId, user.id), isNull(trustedDevices.revokedAt)));
    expect(live).toEqual([]);
  });

  it("answers 409 when MFA is off", async () => {
    const user = await register(app);
    const output = await signIn(app, user.email);
    const response = await app.request("POST", "/v1/flows", { kind: "disablement" }, { token: output.sessionToken });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe("mfa_not_enabled");
  });

  it("rejects a wrong password and keeps MFA on", async () => {
    const user = await registerWithMfa(app);
    const flow = await createFlow(app, "disablement", user.token);

    const response = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: "not the password" }, user.token);

    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe("invalid_password");
    expect(await mfaEnabled(user.id)).toBe(true);
  });
});

describe("disablement under enforcement", () => {
  // NOTE: the rows are written directly because this suite does not use the operator API.
  async function enforceFor(userId: string): Promise<void> {
    const id = `org-${userId}`;
    await app.services.db.insert(organizations).values({ id, name: "Acme", mfaEnforced: true });
    await app.services.db.update(users).set({ organizationId: id }).where(eq(users.id, userId));
  }

  it("refuses a code entered after enforcement started, changing nothing", async () => {
    const user = await registerWithMfa(app);
    app.clock.advance(15 * MINUTE);
    const flow = await createFlow(app, "disablement", user.token);
    await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, user.token);
    const code = await readCode(app, user.email);
    await enforceFor(user.id);
    const [before] = await app.services.db.select().from(flows).where(eq(flows.id, flow.id));

    const response = await sendEvent(app, flow.id, { type: "SUBMIT_CODE", code }, user.token);

    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe("mfa_enforced_by_organization");
    expect(await mfaEnabled(user.id)).toBe(true);
    const [after] = await app.services.db.select().from(flows).where(eq(flows.id, flow.id));
    expect(after?.version).toBe(before?.version);
    expect(after?.snapshot).toEqual(before?.snapshot);
  });

  it("refuses to create a disablement flow", async () => {
    const user = await registerWithMfa(app);
    await enforceFor(user.id);
    const response = await app.request("POST", "/v1/flows", { kind: "disablement" }, { token: user.token });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe("mfa_enforced_by_organization");
  });
});
