/** The enrollment flow over the HTTP API on a real database. */
import { and, eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, sessions, users } from "../../db/schema.js";
import { PASSWORD, type TestApp, createTestApp, readCode } from "../support/app.js";
import { createFlow, register, registerWithMfa, sendEvent, signIn } from "../support/flows.js";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(() => app.close());

async function signedInUser() {
  const user = await register(app);
  const output = await signIn(app, user.email);
  return { ...user, token: output.sessionToken! };
}

describe("enrollment", () => {
  it("turns MFA on after the password and the code", async () => {
    const user = await signedInUser();
    const other = await signIn(app, user.email);
    const flow = await createFlow(app, "enrollment", user.token);
    expect(flow.state).toBe("awaitingPassword");

    const password = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, user.token);
    expect(password.status).toBe(200);
    expect(password.body.state).toBe("awaitingCode");
    const code = await readCode(app, user.email);
    const done = await sendEvent(app, flow.id, { type: "SUBMIT_CODE", code }, user.token);

    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ state: "enabled", status: "done", nextEvents: [] });
    const [row] = await app.services.db.select().from(users).where(eq(users.id, user.id));
    expect(row?.mfaEnabled).toBe(true);
    const me = await app.request("GET", "/v1/me", undefined, { token: user.token });
    expect(me.status).toBe(200);
    const otherMe = await app.request("GET", "/v1/me", undefined, { token: other.sessionToken });
    expect(otherMe.status).toBe(401);
    const audit = await app.services.db.select().from(auditEvents).where(eq(auditEvents.userId, user.id));
    expect(audit.map((event) => event.type)).toContain("mfa_enabled");
  });

  it("rejects a wrong password with the attempts left", async () => {
    const user = await signedInUser();
    const flow = await createFlow(app, "enrollment", user.token);

    const response = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: "not the password" }, user.token);

    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe("invalid_password");
    expect(response.body.error.attemptsRemaining).toBe(4);
    expect(response.body.flow.state).toBe("awaitingPassword");
  });

  it("needs a session", async () => {
    const response = await app.request("POST", "/v1/flows", { kind: "enrollment" });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("unauthenticated");
  });

  it("answers 409 when MFA is already on", async () => {
    const user = await registerWithMfa(app);
    const response = await app.request("POST", "/v1/flows", { kind: "enrollment" }, { token: user.token });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe("mfa_already_enabled");
  });

  it("stops a second flow once MFA is on", async () => {
    const user = await signedInUser();
    const first = await createFlow(app, "enrollment", user.token);
    const second = await createFlow(app, "enrollment", user.token);
    const waiting = await createFlow(app, "enrollment", user.token);
    await sendEvent(app, waiting.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, user.token);
    await sendEvent(app, first.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, user.token);
    const code = await readCode(app, user.email);
    const done = await sendEvent(app, first.id, { type: "SUBMIT_CODE", code }, user.token);
    expect(done.body.state).toBe("enabled");

    const password = await sendEvent(app, second.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, user.token);
    expect(password.status).toBe(409);
    expect(password.body.error.code).toBe("mfa_already_enabled");
    expect(password.body.flow.state).toBe("awaitingPassword");
    const late = await sendEvent(app, waiting.id, { type: "SUBMIT_CODE", code: "000000" }, user.token);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe("mfa_already_enabled");
    const resend = await sendEvent(app, waiting.id, { type: "RESEND_CODE" }, user.token);
    expect(resend.body.error.code).toBe("mfa_already_enabled");
    const cancelled = await sendEvent(app, waiting.id, { type: "CANCEL" }, user.token);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe("cancelled");
  });

  it("hides the flow from another user", async () => {
    const owner = await signedInUser();
    const stranger = await signedInUser();
    const flow = await createFlow(app, "enrollment", owner.token);

    const read = await app.request("GET", `/v1/flows/${flow.id}`, undefined, { token: stranger.token });
    expect(read.status).toBe(404);
    expect(read.body.error.code).toBe("flow_not_found");
    const event = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, stranger.token);
    expect(event.status).toBe(404);
    expect(event.body.error.code).toBe("flow_not_found");
    const anonymous = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: PASSWORD });
    expect(anonymous.status).toBe(401);
  });

  it("rejects rememberDevice outside login", async () => {
    const user = await signedInUser();
    const flow = await createFlow(app, "enrollment", user.token);
    await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, user.token);
    const code = await readCode(app, user.email);

    const response = await sendEvent(app, flow.id, { type: "SUBMIT_CODE", code, rememberDevice: true }, user.token);

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
  });

  it("keeps the session that made the change", async () => {
    const user = await signedInUser();
    const flow = await createFlow(app, "enrollment", user.token);
    await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, user.token);
    await sendEvent(app, flow.id, { type: "SUBMIT_CODE", code: await readCode(app, user.email) }, user.token);

    const live = await app.services.db
      .select()
      .from(sessions)
      .where(and(eq(sessions.userId, user.id), isNull(sessions.revokedAt)));
    expect(live.length).toBe(1);
  });
});
