/** The login flow over the HTTP API on a real database, with an injected clock. */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flowJournal, flows, sessions } from "../../db/schema.js";
import { PASSWORD, type TestApp, createTestApp, readCode } from "../support/app.js";
import { MINUTE, SECOND } from "../support/clock.js";
import { createFlow, register, registerWithMfa, sendEvent, signIn, submitCredentials, uniqueEmail } from "../support/flows.js";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(() => app.close());

describe("login without MFA", () => {
  it("issues a session after the password alone", async () => {
    const user = await register(app);
    const { response } = await submitCredentials(app, user.email);

    expect(response.status).toBe(200);
    expect(response.body.state).toBe("authenticated");
    expect(response.body.status).toBe("done");
    expect(response.body.nextEvents).toEqual([]);
    expect(response.body.output.sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const me = await app.request("GET", "/v1/me", undefined, { token: response.body.output.sessionToken });
    expect(me.body).toMatchObject({ email: user.email, mfaEnabled: false, mfaRequired: false, organization: null });
    const [stored] = await app.services.db.select().from(sessions).where(eq(sessions.userId, user.id));
    expect(stored?.authenticationMethod).toBe("password");
    expect(stored?.tokenHash).not.toContain(response.body.output.sessionToken);
  });

  it("matches the email case-insensitively", async () => {
    const user = await register(app, uniqueEmail("Mixed"));
    const { response } = await submitCredentials(app, user.email.toUpperCase());
    expect(response.body.state).toBe("authenticated");
  });
});

describe("login with MFA", () => {
  it("asks for a code and signs in with it", async () => {
    const user = await registerWithMfa(app);
    const { flowId, response } = await submitCredentials(app, user.email);

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      state: "awaitingCode",
      status: "active",
      nextEvents: ["SUBMIT_CODE", "RESEND_CODE", "CANCEL"],
      attemptsRemaining: 5,
      sentTo: expect.stringMatching(/^u\*\*\*@example\.com$/),
    });
    expect(response.body.output).toBeUndefined();
    const code = await readCode(app, user.email);
    const done = await sendEvent(app, flowId, { type: "SUBMIT_CODE", code });
    expect(done.status).toBe(200);
    expect(done.body.state).toBe("authenticated");
    expect(done.body.output.deviceToken).toBeUndefined();
  });

  it("creates no session before the code", async () => {
    const user = await registerWithMfa(app);
    const before = await app.services.db.select().from(sessions).where(eq(sessions.userId, user.id));
    await submitCredentials(app, user.email);
    const after = await app.services.db.select().from(sessions).where(eq(sessions.userId, user.id));
    expect(after.length).toBe(before.length);
  });

  it("counts wrong codes and locks after five", async () => {
    const user = await registerWithMfa(app);
    const { flowId } = await submitCredentials(app, user.email);
    const code = await readCode(app, user.email);
    const wrong = code === "000000" ? "111111" : "000000";

    for (let remaining = 4; remaining >= 1; remaining -= 1) {
      const response = await sendEvent(app, flowId, { type: "SUBMIT_CODE", code: wrong });
      expect(response.status).toBe(422);
      expect(response.body.error.code).toBe("invalid_code");
      expect(response.body.error.attemptsRemaining).toBe(remaining);
      expect(response.body.flow.attemptsRemaining).toBe(remaining);
    }
    const last = await sendEvent(app, flowId, { type: "SUBMIT_CODE", code: wrong });
    expect(last.status).toBe(423);
    expect(last.body.error.code).toBe("too_many_attempts");
    expect(last.body.flow.state).toBe("locked");

    const afterLock = await sendEvent(app, flowId, { type: "SUBMIT_CODE", code });
    expect(afterLock.status).toBe(409);
    expect(afterLock.body.error.code).toBe("flow_finished");
    const [row] = await app.services.db.select().from(flows).where(eq(flows.id, flowId));
    expect((row?.snapshot as { context: { wrongSubmissions: number } }).context.wrongSubmissions).toBe(5);
  });

  it("rejects an expired code without spending an attempt", async () => {
    const user = await registerWithMfa(app);
    const { flowId } = await submitCredentials(app, user.email);
    const code = await readCode(app, user.email);
    app.clock.advance(10 * MINUTE);

    const response = await sendEvent(app, flowId, { type: "SUBMIT_CODE", code });

    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe("code_expired");
    expect(response.body.flow.attemptsRemaining).toBe(5);
  });

  it("voids the previous code when a new one is sent", async () => {
    const user = await registerWithMfa(app);
    const { flowId } = await submitCredentials(app, user.email);
    const first = await readCode(app, user.email);

    const early = await sendEvent(app, flowId, { type: "RESEND_CODE" });
    expect(early.status).toBe(429);
    expect(early.body.error.code).toBe("resend_too_soon");
    expect(Number(early.headers.get("retry-after"))).toBe(60);

    app.clock.advance(60 * SECOND);
    const resent = await sendEvent(app, flowId, { type: "RESEND_CODE" });
    expect(resent.status).toBe(200);
    const second = await readCode(app, user.email);

    if (first !== second) {
      const old = await sendEvent(app, flowId, { type: "SUBMIT_CODE", code: first });
      expect(old.body.error.code).toBe("invalid_code");
    }
    const done = await sendEvent(app, flowId, { type: "SUBMIT_CODE", code: second });
    expect(done.body.state, JSON.stringify({ first, second, body: done.body })).toBe("authenticated");
  });

  it("stops resending after five codes", async () => {
    const user = await registerWithMfa(app);
    const { flowId } = await submitCredentials(app, user.email);
    for (let resend = 1; resend <= 4; resend += 1) {
      app.clock.advance(61 * SECOND);
      const response = await sendEvent(app, flowId, { type: "RESEND_CODE" });
      expect(response.status).toBe(200);
    }
    app.clock.advance(61 * SECOND);
    const response = await sendEvent(app, flowId, { type: "RESEND_CODE" });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe("resend_limit_reached");
  });

  it("does not accept a code of another flow", async () => {
    const user = await registerWithMfa(app);
    const first = await submitCredentials(app, user.email);
    const code = await readCode(app, user.email);
    const second = await submitCredentials(app, user.email);

    const response = await sendEvent(app, second.flowId, { type: "SUBMIT_CODE", code });

    expect(response.body.error?.code).toBe("invalid_code");
    const own = await sendEvent(app, first.flowId, { type: "SUBMIT_CODE", code });
    expect(own.body.state).toBe("authenticated");
  });

  it("does not accept a code twice", async () => {
    const user = await registerWithMfa(app);
    const { flowId } = await submitCredentials(app, user.email);
    const code = await readCode(app, user.email);
    await sendEvent(app, flowId, { type: "SUBMIT_CODE", code });

    const replay = await sendEvent(app, flowId, { type: "SUBMIT_CODE", code });

    expect(replay.status).toBe(409);
    expect(replay.body.error.code).toBe("flow_finished");
  });
});

describe("remembered device", () => {
  it("skips the code for 14 days and not after", async () => {
    const user = await registerWithMfa(app);
    const output = await signIn(app, user.email, true);
    expect(output.deviceToken).toBeDefined();

    app.clock.advance(14 * 24 * 60 * MINUTE - MINUTE);
    const within = await submitCredentials(app, user.email, { deviceToken: output.deviceToken });
    expect(within.response.body.state).toBe("authenticated");

    app.clock.advance(2 * MINUTE);
    const after = await submitCredentials(app, user.email, { deviceToken: output.deviceToken });
    expect(after.response.body.state).toBe("awaitingCode");
  });

  it("sets the device cookie and reads it back", async () => {
    const user = await registerWithMfa(app);
    const { flowId } = await submitCredentials(app, user.email);
    const code = await readCode(app, user.email);
    const done = await sendEvent(app, flowId, { type: "SUBMIT_CODE", code, rememberDevice: true });
    const cookie = done.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^mfa_device=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("Secure");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).toContain("Path=/");
    expect(cookie).toContain(`Max-Age=${14 * 24 * 3600}`);

    const flow = await createFlow(app, "login");
    const response = await app.request(
      "POST",
      `/v1/flows/${flow.id}/events`,
      { type: "SUBMIT_CREDENTIALS", email: user.email, password: PASSWORD },
      { headers: { cookie: cookie.split(";")[0]! } },
    );
    expect(response.body.state).toBe("authenticated");
  });

  it("is not honoured for another user", async () => {
    const owner = await registerWithMfa(app);
    const other = await registerWithMfa(app);
    const output = await signIn(app, owner.email, true);

    const { response } = await submitCredentials(app, other.email, { deviceToken: output.deviceToken });

    expect(response.body.state).toBe("awaitingCode");
  });
});

describe("flow expiry", () => {
  it("answers 410 before event_not_allowed and stores the expiry", async () => {
    const flow = await createFlow(app, "login");
    app.clock.advance(15 * MINUTE);

    const response = await sendEvent(app, flow.id, { type: "SUBMIT_CODE", code: "123456" });

    expect(response.status).toBe(410);
    expect(response.body.error.code).toBe("flow_expired");
    expect(response.body.flow.state).toBe("expired");
    const [row] = await app.services.db.select().from(flows).where(eq(flows.id, flow.id));
    expect(row?.state).toBe("expired");
  });

  it("turns the flow expired and journals it", async () => {
    const user = await registerWithMfa(app);
    const { flowId } = await submitCredentials(app, user.email);
    app.clock.advance(15 * MINUTE);

    const read = await app.request("GET", `/v1/flows/${flowId}`);
    expect(read.status).toBe(200);
    expect(read.body.state).toBe("expired");
    const event = await sendEvent(app, flowId, { type: "RESEND_CODE" });
    expect(event.status).toBe(410);
    expect(event.body.error.code).toBe("flow_expired");
    const journal = await app.services.db
      .select()
      .from(flowJournal)
      .where(eq(flowJournal.flowId, flowId))
      .orderBy(flowJournal.id);
    expect(journal.map((row) => row.eventType)).toEqual(["xstate.init", "SUBMIT_CREDENTIALS", "EXPIRE"]);
  });
});
