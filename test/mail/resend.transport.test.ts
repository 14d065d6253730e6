/**
 * The Resend transport through the outbox: the real Resend SDK against a local imitation of
 * Resend's API that accepts, rate-limits or fails.
 */
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { mailOutbox } from "../../db/schema.js";
import { type TestApp, createTestApp } from "../support/app.js";
import { MINUTE } from "../support/clock.js";
import { registerWithMfa, submitCredentials, uniqueEmail } from "../support/flows.js";
import { type ResendImitation, startResendImitation } from "../support/resend-imitation.js";

let resend: ResendImitation;
let app: TestApp;

beforeAll(async () => {
  resend = await startResendImitation();
  app = await createTestApp({ resend });
});
afterAll(async () => {
  await app.close();
  await resend.close();
});
afterEach(() => {
  resend.requests.length = 0;
});

async function deliverDue(): Promise<void> {
  await app.services.dispatcher.kick();
  await app.services.dispatcher.idle();
}

async function outboxRowsFor(userId: string) {
  return app.services.db.select().from(mailOutbox).where(eq(mailOutbox.userId, userId));
}

/** Signs a user with MFA in up to the code, and returns the outbox row of that code's mail. */
async function requestCode(email: string, userId: string) {
  await deliverDue();
  const before = new Set((await outboxRowsFor(userId)).map((row) => row.id));
  resend.requests.length = 0;
  await submitCredentials(app, email);
  const [row] = (await outboxRowsFor(userId)).filter((candidate) => !before.has(candidate.id));
  expect(row?.template).toBe("code");
  return row!;
}

async function outboxRow(id: string) {
  const [row] = await app.services.db.select().from(mailOutbox).where(eq(mailOutbox.id, id));
  return row!;
}

describe("Resend transport", () => {
  it("sends the code with the outbox id as idempotency key and erases it", async () => {
    const user = await registerWithMfa(app, uniqueEmail("resend"));
    const queued = await requestCode(user.email, user.id);
    await deliverDue();

    const newest = await outboxRow(queued.id);
    expect(newest.status).toBe("sent");
    expect(newest.payload).toBeNull();
    const delivered = resend.delivered.find((mail) => mail.idempotencyKey === newest.id);
    expect(delivered?.to).toBe(user.email);
    expect(delivered?.subject).toBe("Your sign-in code");
    expect(delivered?.text).toMatch(/Your security code is \d{6}\./);
    expect(delivered?.text).toContain("valid for 10 minutes");
    expect(delivered?.html).toMatch(/<strong>\d{6}<\/strong>/);
  });

  it("retries 429 and 500 with the same idempotency key", async () => {
    const user = await registerWithMfa(app, uniqueEmail("retry"));
    const deliveredBefore = resend.delivered.length;
    resend.script("rate_limited", "server_error");
    const queued = await requestCode(user.email, user.id);
    await deliverDue();

    let row = await outboxRow(queued.id);
    expect(row.status).toBe("pending");
    expect(row.attempts).toBe(1);
    expect(row.lastError).toContain("429");
    app.clock.advance(MINUTE);
    await deliverDue();
    row = await outboxRow(queued.id);
    expect(row.status).toBe("pending");
    expect(row.attempts).toBe(2);
    expect(row.lastError).toContain("500");
    app.clock.advance(MINUTE);
    await deliverDue();
    row = await outboxRow(queued.id);

    expect(row.status).toBe("sent");
    expect(row.payload).toBeNull();
    const keys = resend.requests.map((request) => request.idempotencyKey);
    expect(keys).toEqual([queued.id, queued.id, queued.id]);
    expect(resend.delivered.length).toBe(deliveredBefore + 1);
  });

  it("marks a permanent rejection failed without retrying", async () => {
    const user = await registerWithMfa(app, uniqueEmail("reject"));
    await deliverDue();
    resend.script("invalid_sender");
    const queued = await requestCode(user.email, user.id);
    await deliverDue();
    app.clock.advance(MINUTE);
    await deliverDue();

    const row = await outboxRow(queued.id);
    expect(row.status).toBe("failed");
    expect(row.payload).toBeNull();
    expect(row.attempts).toBe(1);
    expect(resend.requests.length).toBe(1);
    const errors = app.logs.filter((line) => line.msg === "mail failed permanently");
    expect(errors.length).toBe(1);
  });
});
