/**
 * The retention job: deletes what the service no longer needs once the retention period has
 * passed. Every process runs it. Each batch is one statement that takes its rows with
 * `FOR UPDATE SKIP LOCKED`, so processes running at once share the rows instead of waiting for
 * each other. No session-level lock is held, so the job works behind a transaction-pooling
 * PgBouncer. Each query below has an index on the column it scans.
 */
import { type SQL, sql } from "drizzle-orm";
import { type Database, rowsOf } from "../db/client.js";
import type { Logger } from "./logger.js";

const BATCH_SIZE = 500;
/** Rate limit windows are useless once their minute is over; two minutes leave a margin. */
const RATE_LIMIT_WINDOW_KEEP_MS = 2 * 60_000;

export interface RetentionOptions {
  db: Database;
  logger: Logger;
  now: () => Date;
  retentionMs: number;
  intervalMs: number;
  batchSize?: number;
}

/** Rows deleted by one run, per kind. */
export interface RetentionReport {
  flows: number;
  outbox: number;
  sessions: number;
  trustedDevices: number;
  signInFailures: number;
  rateLimitWindows: number;
}

export class RetentionJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RetentionReport | null> | null = null;

  constructor(private readonly options: RetentionOptions) {}

  /** Runs the job every interval, the first time one interval after the start. */
  start(): void {
    this.timer ??= setInterval(() => void this.runSafely(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Deletes every row past retention, batch after batch, and returns the counts. */
  async run(): Promise<RetentionReport> {
    const now = this.options.now();
    const cutoff = new Date(now.getTime() - this.options.retentionMs).toISOString();
    const windowCutoff = new Date(now.getTime() - RATE_LIMIT_WINDOW_KEEP_MS).toISOString();
    const nowText = now.toISOString();

    const report: RetentionReport = {
      // A finished flow goes with its journal; every flow is past its own expiry by then.
      flows: await this.deleteAll(
        (limit) => sql`with doomed as (
            select id from flows
            where (status = 'done' and updated_at < ${cutoff}::timestamptz) or expires_at < ${cutoff}::timestamptz
            limit ${limit} for update skip locked
          ), journal as (
            delete from flow_journal where flow_id in (select id from doomed)
          )
          delete from flows where id in (select id from doomed) returning id`,
      ),
      outbox: await this.deleteAll(
        (limit) => sql`delete from mail_outbox where id in (
            select id from mail_outbox where status <> 'pending' and created_at < ${cutoff}::timestamptz
            limit ${limit} for update skip locked
          ) returning id`,
      ),
      sessions: await this.deleteAll(
        (limit) => sql`delete from sessions where id in (
            select id from sessions where expires_at < ${cutoff}::timestamptz
            limit ${limit} for update skip locked
          ) returning id`,
      ),
      trustedDevices: await this.deleteAll(
        (limit) => sql`delete from trusted_devices where id in (
            select id from trusted_devices where expires_at < ${cutoff}::timestamptz
            limit ${limit} for update skip locked
          ) returning id`,
      ),
      // A row of a running pause stays, however old its last failure.
      signInFailures: await this.deleteAll(
        (limit) => sql`delete from sign_in_failures where email in (
            select email from sign_in_failures
            where updated_at < ${cutoff}::timestamptz and (paused_until is null or paused_until <= ${nowText}::timestamptz)
            limit ${limit} for update skip locked
          ) returning email`,
      ),
      rateLimitWindows: await this.deleteAll(
        (limit) => sql`delete from rate_limit_windows where (client, window_start) in (
            select client, window_start from rate_limit_windows where window_start < ${windowCutoff}::timestamptz
            limit ${limit} for update skip locked
          ) returning client`,
      ),
    };
    const deleted = Object.values(report).reduce((sum, count) => sum + count, 0);
    if (deleted > 0) this.options.logger.info({ ...report }, "retention job deleted old rows");
    return report;
  }

  private async runSafely(): Promise<RetentionReport | null> {
    if (this.running) return this.running;
    this.running = this.run()
      .catch((error: unknown) => {
        this.options.logger.error({ err: error }, "retention job failed");
        return null;
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  /** Repeats one batch statement until a batch deletes fewer rows than the batch size. */
  private async deleteAll(batch: (limit: number) => SQL): Promise<number> {
    const limit = this.options.batchSize ?? BATCH_SIZE;
    let total = 0;
    for (;;) {
      const deleted = rowsOf(await this.options.db.execute(batch(limit))).length;
      total += deleted;
      if (deleted < limit) return total;
    }
  }
}
