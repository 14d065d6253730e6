/**
 * Two mail dispatchers on one database, each with its own connection pool on PostgreSQL,
 * share the outbox: rows are claimed with `FOR UPDATE SKIP LOCKED` and a lease, so every
 * mail reaches Resend exactly once.
 */
import { inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseHandle, openDatabase } from "../../db/client.js";
import { mailOutbox } from "../../db/schema.js";
import { createLogger } from "../../src/logger.js";
import { MailDispatcher, queueMail } from "../../src/mail/outbox.js";
import { createResendTransport } from "../../src/mail/transport.js";
import { type TestApp, createTestApp } from "../support/app.js";
import { RESEND_TEST_KEY, type ResendImitation, startResendImitation } from "../support/resend-imitation.js";

const MAILS = 60;

let resend: ResendImitation;
let app: TestApp;
let second: DatabaseHandle | null = null;

beforeAll(async () => {
  resend = await startResendImitation();
  app = await createTestApp({ resend });
});
afterAll(async () => {
  await second?.close();
  await app.close();
  await resend.close();
});

function createDispatcher(handle: { db: TestApp["services"]["db"] }, sent: string[]): MailDispatcher {
  const logger = createLogger("info", {
    write(line: string) {
      const entry = JSON.parse(line) as { msg: string; outboxId?: string };
      if (entry.msg === "mail sent" && entry.outboxId) sent.push(entry.outboxId);
    },
  });
  return new MailDispatcher({
    db: handle.db,
    transport: createResendTransport(RESEND_TEST_KEY, { baseUrl: resend.url, timeoutMs: 5_000 }),
    outboxKey: app.services.keys.outboxKey,
    from: app.services.config.mailFrom,
    logger,
    now: app.clock.now,
  });
}

describe("two dispatchers", () => {
  it("deliver every mail exactly once", async () => {
    // On PostgreSQL the second dispatcher gets a pool of its own, as another process would.
    second = app.database.url ? openDatabase({ url: app.database.url, poolSize: 5 }) : null;
    const sentByFirst: string[] = [];
    const sentBySecond: string[] = [];
    const first = createDispatcher(app.services, sentByFirst);
    const other = createDispatcher(second ?? app.services, sentBySecond);
    const ids = await app.services.db.transaction(async (tx) => {
      const queued: string[] = [];
      for (let index = 0; index < MAILS; index += 1) {
        const id = await queueMail(tx, app.services.keys.outboxKey, {
          recipient: `shared${index}@example.com`,
          now: app.clock.now(),
          mail: { template: "mfa_enabled" },
        });
        queued.push(id);
      }
      return queued;
    });
    // Responses that take a while make both dispatchers claim while the other still sends.
    resend.latencyMs = 20;

    await Promise.all([first.kick(), other.kick(), first.kick(), other.kick()]);
    await Promise.all([first.idle(), other.idle()]);

    const rows = await app.services.db.select().from(mailOutbox).where(inArray(mailOutbox.id, ids));
    expect(rows.filter((row) => row.status !== "sent")).toEqual([]);
    expect(rows.every((row) => row.attempts === 1)).toBe(true);
    const counts = ids.map((id) => resend.requestsFor(id));
    expect(counts.filter((count) => count !== 1)).toEqual([]);
    expect(resend.delivered.filter((mail) => ids.includes(mail.idempotencyKey ?? "")).length).toBe(MAILS);
    expect(sentByFirst.length + sentBySecond.length).toBe(MAILS);
    expect(new Set([...sentByFirst, ...sentBySecond]).size).toBe(MAILS);
    console.info(`two dispatchers: ${MAILS} queued, ${sentByFirst.length} + ${sentBySecond.length} sent, ${resend.requests.length} requests`);
  });
});
