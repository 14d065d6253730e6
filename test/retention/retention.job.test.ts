/**
 * The retention job: what it deletes once the retention period has passed, what it keeps, and
 * that several processes running it at once delete each row exactly once.
 */
import { count, eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, type DatabaseHandle, openDatabase, rowsOf } from "../../db/client.js";
import {
  flowJournal,
  flows,
  mailOutbox,
  rateLimitWindows,
  sessions,
  signInFailures,
  trustedDevices,
} from "../../db/schema.js";
import { createLogger } from "../../src/logger.js";
import { type RetentionReport, RetentionJob } from "../../src/retention.js";
import { type TestApp, createTestApp } from "../support/app.js";
import { DAY, MINUTE } from "../support/clock.js";
import { createFlow, register, registerWithMfa, sendEvent, signIn, uniqueEmail } from "../support/flows.js";

const JOBS = 3;
const tables = { flows, flowJournal, mailOutbox, sessions, trustedDevices, signInFailures, rateLimitWindows };
type TableName = keyof typeof tables;

let app: TestApp;
let extraHandles: DatabaseHandle[] = [];
beforeAll(async () => {
  app = await createTestApp({
    env: {
      RETENTION_DAYS: "1",
      RATE_LIMIT_PER_MINUTE: "1000",
      // A pause longer than the whole test, so that a running pause is among the old rows.
      SIGN_IN_PAUSE_MINUTES: String(60 * 24 * 60),
      SIGN_IN_PAUSE_MAX_HOURS: String(24 * 60),
      SIGN_IN_PAUSE_THRESHOLD: "3",
    },
  });
});
afterAll(async () => {
  await Promise.all(extraHandles.map((handle) => handle.close()));
  await app.close();
});

async function countRows(): Promise<Record<TableName, number>> {
  const counts = {} as Record<TableName, number>;
  for (const [name, table] of Object.entries(tables) as [TableName, (typeof tables)[TableName]][]) {
    const [row] = await app.services.db.select({ value: count() }).from(table);
    counts[name] = row!.value;
  }
  return counts;
}

/** Databases for the jobs: on PostgreSQL each has its own pool, as another process would. */
function jobDatabases(): Database[] {
  if (!app.database.url) return Array(JOBS).fill(app.services.db);
  extraHandles = Array.from({ length: JOBS }, () => openDatabase({ url: app.database.url!, poolSize: 2 }));
  return extraHandles.map((handle) => handle.db);
}

describe("retention job", () => {
  it("deletes old rows once across parallel runs and keeps the rest", async () => {
    // Old rows: every flow kind, finished and abandoned, sessions, a trust, mail, failures.
    const user = await registerWithMfa(app);
    await signIn(app, user.email, true);
    const abandoned = (await createFlow(app, "login")).id;
    const pausedEmail = uniqueEmail("paused");
    for (let i = 0; i < 3; i += 1) {
      const flow = await createFlow(app, "login");
      await sendEvent(app, flow.id, { type: "SUBMIT_CREDENTIALS", email: pausedEmail, password: "wrong password" });
    }
    await sendEvent(app, (await createFlow(app, "login")).id, {
      type: "SUBMIT_CREDENTIALS",
      email: user.email,
      password: "wrong password",
    });
    const oldPendingMail = "old-pending-mail";
    await app.services.db.insert(mailOutbox).values({
      id: oldPendingMail,
      recipient: user.email,
      template: "mfa_enabled",
      payload: "sealed",
      nextAttemptAt: new Date(app.clock.now().getTime() + 365 * DAY),
      createdAt: app.clock.now(),
    });
    await app.services.dispatcher.idle();
    const oldFlowIds = (await app.services.db.select({ id: flows.id }).from(flows)).map((row) => row.id);
    expect(oldFlowIds).toContain(abandoned);

    // Past every lifetime (sessions 12 hours, trusts 14 days) plus the retention of one day.
    app.clock.advance(16 * DAY);
    const fresh = await register(app);
    const freshSession = (await signIn(app, fresh.email)).sessionToken!;
    const freshFlow = (await createFlow(app, "login")).id;
    await sendEvent(app, freshFlow, { type: "SUBMIT_CREDENTIALS", email: fresh.email, password: "wrong password" });
    expect(freshSession).toBeTruthy();
    const before = await countRows();

    const logger = createLogger("silent");
    const reports: RetentionReport[] = await Promise.all(
      jobDatabases().map((db) =>
        new RetentionJob({ db, logger, now: app.clock.now, retentionMs: DAY, intervalMs: MINUTE, batchSize: 3 }).run(),
      ),
    );

    const after = await countRows();
    const deleted = (name: keyof RetentionReport) => reports.reduce((sum, report) => sum + report[name], 0);
    expect(deleted("flows")).toBe(before.flows - after.flows);
    expect(deleted("outbox")).toBe(before.mailOutbox - after.mailOutbox);
    expect(deleted("sessions")).toBe(before.sessions - after.sessions);
    expect(deleted("trustedDevices")).toBe(before.trustedDevices - after.trustedDevices);
    expect(deleted("signInFailures")).toBe(before.signInFailures - after.signInFailures);
    expect(deleted("rateLimitWindows")).toBe(before.rateLimitWindows - after.rateLimitWindows);

    const db = app.services.db;
    const remainingFlows = await db.select({ id: flows.id }).from(flows);
    expect(remainingFlows.filter((row) => oldFlowIds.includes(row.id))).toEqual([]);
    expect(remainingFlows.map((row) => row.id)).toContain(freshFlow);
    expect(await db.select().from(flowJournal).where(inArray(flowJournal.flowId, oldFlowIds))).toEqual([]);
    expect((await db.select().from(flowJournal).where(eq(flowJournal.flowId, freshFlow))).length).toBe(2);
    const outbox = await db.select().from(mailOutbox);
    expect(outbox.map((row) => row.id)).toEqual([oldPendingMail]);
    const remainingSessions = await db.select().from(sessions);
    expect(remainingSessions.map((row) => row.userId)).toEqual([fresh.id]);
    expect(await db.select().from(trustedDevices)).toEqual([]);
    const failures = await db.select().from(signInFailures);
    expect(failures.map((row) => row.email).sort()).toEqual([fresh.email, pausedEmail].sort());
    const windows = await db.select().from(rateLimitWindows);
    expect(windows.every((row) => row.windowStart.getTime() > app.clock.now().getTime() - 2 * MINUTE)).toBe(true);
    expect(windows.length).toBeGreaterThan(0);
    console.info(`retention: ${JSON.stringify({ before, after, reports })}`);
  });

  it("has an index on every column it scans", async () => {
    const indexes = rowsOf<{ name: string }>(
      await app.services.db.execute(sql`select indexname as name from pg_indexes where schemaname = current_schema()`),
    ).map((row) => row.name);

    expect(indexes).toEqual(
      expect.arrayContaining([
        "flows_updated_at_idx",
        "flows_expires_at_idx",
        "flow_journal_flow_id_idx",
        "mail_outbox_finished_idx",
        "sessions_expires_at_idx",
        "trusted_devices_expires_at_idx",
        "sign_in_failures_updated_at_idx",
        "rate_limit_windows_window_start_idx",
      ]),
    );
  });
});
