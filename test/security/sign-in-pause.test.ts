/**
 * The sign-in pause against password and code guessing. An attacker who opens many login flows
 * for one address, in parallel or one after another, gets 10 failures before sign-in for that
 * address pauses, and ever longer pauses after that. A flow opened earlier does not escape it.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, devMailbox, flowJournal, signInFailures } from "../../db/schema.js";
import { PASSWORD, type TestApp, createTestApp, readCode } from "../support/app.js";
import { DAY, MINUTE } from "../support/clock.js";
import { createFlow, registerWithMfa, sendEvent, signIn, submitCredentials, uniqueEmail } from "../support/flows.js";

const ADMIN_TOKEN = "operator-token-0123456789-0123456789";
const PAUSED_SUBJECT = "Sign-in to your account is paused";
const LOCKED_SUBJECT = "A sign-in with your password was stopped";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({ env: { ADMIN_TOKEN } });
});
afterAll(() => app.close());

/** Submits `count` wrong passwords for an address, opening a new flow whenever one locks. */
async function failPasswords(email: string, count: number) {
  const responses = [];
  let flowId = (await createFlow(app, "login")).id;
  for (let i = 0; i < count; i += 1) {
    const response = await sendEvent(app, flowId, { type: "SUBMIT_CREDENTIALS", email, password: "wrong password" });
    responses.push(response);
    if (response.body.flow?.state !== "awaitingCredentials") flowId = (await createFlow(app, "login")).id;
  }
  return responses;
}

async function failureRow(email: string) {
  const [row] = await app.services.db.select().from(signInFailures).where(eq(signInFailures.email, email.toLowerCase()));
  return row;
}

async function mailsTo(email: string, subject: string) {
  await app.services.dispatcher.kick();
  await app.services.dispatcher.idle();
  const rows = await app.services.db.select().from(devMailbox).where(eq(devMailbox.recipient, email.toLowerCase()));
  return rows.filter((row) => row.subject === subject).length;
}

function expectPaused(response: { status: number; body: any; headers: Headers }, retryAfterSeconds: number) {
  expect(response.status, JSON.stringify(response.body)).toBe(429);
  expect(response.body.error.code).toBe("too_many_failures");
  expect(response.body.error.retryAfter).toBe(retryAfterSeconds);
  expect(response.headers.get("retry-after")).toBe(String(retryAfterSeconds));
}

describe("sign-in pause", () => {
  it("pauses an address after 10 failures in a row", async () => {
    const user = await registerWithMfa(app);

    const failures = await failPasswords(user.email, 10);

    expect(failures.map((response) => response.body.error.code)).toEqual([
      ...Array(4).fill("invalid_credentials"),
      "too_many_attempts",
      ...Array(4).fill("invalid_credentials"),
      "too_many_attempts",
    ]);
    const row = await failureRow(user.email);
    expect(row?.failures).toBe(10);
    expect(row?.pausedUntil?.toISOString()).toBe(new Date(app.clock.now().getTime() + 15 * MINUTE).toISOString());
    const { response } = await submitCredentials(app, user.email);
    expectPaused(response, 15 * 60);
    expect(response.body.flow.state).toBe("awaitingCredentials");
    expect(response.body.flow.attemptsRemaining).toBe(5);
    expect((await failureRow(user.email))?.failures).toBe(10);
  });

  it("counts an unregistered address in any letter case", async () => {
    const email = uniqueEmail("nobody");

    await failPasswords(email.toUpperCase(), 10);

    const { response } = await submitCredentials(app, email);
    expectPaused(response, 15 * 60);
    expect((await failureRow(email))?.failures).toBe(10);
  });

  it("counts wrong codes and locked flows", async () => {
    const user = await registerWithMfa(app);
    const { flowId } = await submitCredentials(app, user.email);
    const code = await readCode(app, user.email);
    const wrong = code === "000000" ? "111111" : "000000";
    for (let i = 0; i < 5; i += 1) await sendEvent(app, flowId, { type: "SUBMIT_CODE", code: wrong });
    expect((await failureRow(user.email))?.failures).toBe(5);

    await failPasswords(user.email, 5);

    expect((await failureRow(user.email))?.failures).toBe(10);
    const { response } = await submitCredentials(app, user.email);
    expectPaused(response, 15 * 60);
  });

  it("is not reset by a right password alone", async () => {
    const user = await registerWithMfa(app);
    await failPasswords(user.email, 9);

    const { response } = await submitCredentials(app, user.email);
    expect(response.body.state).toBe("awaitingCode");
    expect((await failureRow(user.email))?.failures).toBe(9);
    await failPasswords(user.email, 1);

    expect((await failureRow(user.email))?.pausedUntil).not.toBeNull();
  });

  it("is reset by a sign-in that reaches authenticated", async () => {
    const user = await registerWithMfa(app);
    await failPasswords(user.email, 9);

    await signIn(app, user.email);

    expect((await failureRow(user.email))?.failures).toBe(0);
    await failPasswords(user.email, 9);
    const { response } = await submitCredentials(app, user.email);
    expect(response.body.state).toBe("awaitingCode");
  });

  it("stops a flow that was opened before the pause", async () => {
    const user = await registerWithMfa(app);
    const { flowId } = await submitCredentials(app, user.email);
    const code = await readCode(app, user.email);

    await failPasswords(user.email, 10);
    const response = await sendEvent(app, flowId, { type: "SUBMIT_CODE", code });

    expectPaused(response, 15 * 60);
    expect(response.body.flow.state).toBe("awaitingCode");
    expect(response.body.flow.attemptsRemaining).toBe(5);
    const journal = await app.services.db
      .select()
      .from(flowJournal)
      .where(eq(flowJournal.flowId, flowId))
      .orderBy(flowJournal.id);
    expect(journal.at(-1)?.outcome).toBe("too_many_failures");
  });

  it("lets a trusted device with the right password sign in", async () => {
    const user = await registerWithMfa(app);
    const { deviceToken } = await signIn(app, user.email, true);
    await failPasswords(user.email, 10);

    const trusted = await submitCredentials(app, user.email, { deviceToken });
    const wrongPassword = await sendEvent(app, (await createFlow(app, "login")).id, {
      type: "SUBMIT_CREDENTIALS",
      email: user.email,
      password: "wrong password",
      deviceToken,
    });
    const untrusted = await submitCredentials(app, user.email);

    expect(trusted.response.status, JSON.stringify(trusted.response.body)).toBe(200);
    expect(trusted.response.body.state).toBe("authenticated");
    expectPaused(wrongPassword, 15 * 60);
    expectPaused(untrusted.response, 15 * 60);
  });

  it("doubles each further pause up to 24 hours", async () => {
    const email = uniqueEmail("doubling");
    const pauses: number[] = [];
    for (let pause = 1; pause <= 9; pause += 1) {
      await failPasswords(email, 10);
      const row = await failureRow(email);
      const lengthMs = row!.pausedUntil!.getTime() - app.clock.now().getTime();
      pauses.push(lengthMs / MINUTE);
      app.clock.advance(lengthMs);
    }

    expect(pauses).toEqual([15, 30, 60, 120, 240, 480, 960, 1440, 1440]);
    expect((await failureRow(email))?.failures).toBe(90);
  });

  it("mails the owner when a pause starts, at most once a day", async () => {
    const user = await registerWithMfa(app);

    await failPasswords(user.email, 10);
    expect(await mailsTo(user.email, PAUSED_SUBJECT)).toBe(1);
    app.clock.advance(15 * MINUTE);
    await failPasswords(user.email, 10);
    expect(await mailsTo(user.email, PAUSED_SUBJECT)).toBe(1);
    app.clock.advance(DAY);
    await failPasswords(user.email, 10);

    expect(await mailsTo(user.email, PAUSED_SUBJECT)).toBe(2);
    const audits = await app.services.db.select().from(auditEvents).where(eq(auditEvents.userId, user.id));
    expect(audits.filter((row) => row.type === "sign_in_paused").length).toBe(3);
  });

  it("counts parallel flows for one address exactly", async () => {
    const email = uniqueEmail("parallel");
    const flowIds = await Promise.all(Array.from({ length: 30 }, async () => (await createFlow(app, "login")).id));

    const responses = await Promise.all(
      flowIds.map((flowId) => sendEvent(app, flowId, { type: "SUBMIT_CREDENTIALS", email, password: "wrong password" })),
    );

    const codes = responses.map((response) => response.body.error?.code);
    expect(codes.filter((code) => code === "invalid_credentials").length, JSON.stringify(codes)).toBe(10);
    expect(codes.filter((code) => code === "too_many_failures").length, JSON.stringify(codes)).toBe(20);
    expect((await failureRow(email))?.failures).toBe(10);
  });
});

describe("flow locked after a right password", () => {
  it("mails the owner", async () => {
    const user = await registerWithMfa(app);
    const { flowId } = await submitCredentials(app, user.email);
    const code = await readCode(app, user.email);
    const wrong = code === "000000" ? "111111" : "000000";

    for (let i = 0; i < 5; i += 1) await sendEvent(app, flowId, { type: "SUBMIT_CODE", code: wrong });

    expect(await mailsTo(user.email, LOCKED_SUBJECT)).toBe(1);
  });

  it("does not mail after wrong passwords only", async () => {
    const user = await registerWithMfa(app);

    await failPasswords(user.email, 5);

    expect(await mailsTo(user.email, LOCKED_SUBJECT)).toBe(0);
  });
});

describe("operator lifts a pause", () => {
  it("clears the pause and the count", async () => {
    const user = await registerWithMfa(app);
    await failPasswords(user.email, 10);

    const lifted = await app.request("DELETE", `/v1/admin/sign-in-pauses/${encodeURIComponent(user.email.toUpperCase())}`, undefined, {
      token: ADMIN_TOKEN,
    });

    expect(lifted.status, JSON.stringify(lifted.body)).toBe(204);
    expect(await failureRow(user.email)).toBeUndefined();
    const { response } = await submitCredentials(app, user.email);
    expect(response.body.state).toBe("awaitingCode");
  });

  it("rejects a wrong operator token", async () => {
    const user = await registerWithMfa(app);
    await failPasswords(user.email, 10);

    const response = await app.request("DELETE", `/v1/admin/sign-in-pauses/${user.email}`, undefined, {
      token: `${ADMIN_TOKEN}x`,
    });

    expect(response.status, JSON.stringify(response.body)).toBe(401);
    expect(response.body.error.code).toBe("unauthenticated");
    expect((await failureRow(user.email))?.failures).toBe(10);
  });

  it("rejects an invalid address", async () => {
    const response = await app.request("DELETE", "/v1/admin/sign-in-pauses/not-an-email", undefined, { token: ADMIN_TOKEN });

    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
  });

  it("answers 404 without ADMIN_TOKEN", async () => {
    const { config } = app.services;
    config.adminToken = undefined;
    try {
      const response = await app.request("DELETE", "/v1/admin/sign-in-pauses/a@example.com", undefined, { token: ADMIN_TOKEN });
      expect(response.status, JSON.stringify(response.body)).toBe(404);
      expect(response.body.error.code).toBe("not_found");
    } finally {
      config.adminToken = ADMIN_TOKEN;
    }
  });
});

describe("password of a paused sign-in", () => {
  it("is still hashed, so a pause does not reveal a right password", async () => {
    const user = await registerWithMfa(app);
    await failPasswords(user.email, 10);
    const before = app.hasher.verifications;

    const right = await submitCredentials(app, user.email);
    const wrong = await sendEvent(app, (await createFlow(app, "login")).id, {
      type: "SUBMIT_CREDENTIALS",
      email: user.email,
      password: `${PASSWORD}!`,
    });

    expect(right.response.body).toEqual({ ...wrong.body, flow: { ...wrong.body.flow, id: right.flowId } });
    expect(app.hasher.verifications - before).toBe(2);
  });
});
