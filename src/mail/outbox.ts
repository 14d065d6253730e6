/**
 * The outbox: mail queued inside the transaction of the change that causes it, and sent after
 * the commit, so that nothing is mailed for a state that was never saved and nothing
 * committed is lost by a crash.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Database, Transaction } from "../../db/client.js";
import { mailOutbox } from "../../db/schema.js";
import { createId, decrypt, encrypt } from "../crypto.js";
import type { Logger } from "../logger.js";
import { type MailTemplate, renderMail } from "./templates.js";
import type { MailTransport } from "./transport.js";

/** Resend keeps idempotency keys for 24 hours; retrying longer could send a mail twice. */
const RETRY_WINDOW_MS = 24 * 60 * 60_000;
const DEFAULT_LEASE_MS = 60_000;
const BATCH_SIZE = 20;
const MAX_BACKOFF_MS = 10 * 60_000;

export interface QueuedMail {
  recipient: string;
  /** The service clock's time; the row is due from then. */
  now: Date;
  mail: MailTemplate;
  flowId?: string;
  userId?: string;
}

type OutboxRow = typeof mailOutbox.$inferSelect;

/** Queues a mail in the caller's transaction; its parameters are stored encrypted. */
export async function queueMail(tx: Transaction, outboxKey: Buffer, queued: QueuedMail): Promise<string> {
  const id = createId();
  await tx.insert(mailOutbox).values({
    id,
    flowId: queued.flowId ?? null,
    userId: queued.userId ?? null,
    recipient: queued.recipient,
    template: queued.mail.template,
    payload: encrypt(outboxKey, JSON.stringify(queued.mail)),
    nextAttemptAt: queued.now,
    createdAt: queued.now,
  });
  return id;
}

/** Drops the queued code mails of a flow whose code a newer one voids. */
export async function dropPendingCodeMails(tx: Transaction, flowId: string): Promise<void> {
  await tx
    .update(mailOutbox)
    .set({ status: "dropped", payload: null })
    .where(
      and(eq(mailOutbox.flowId, flowId), eq(mailOutbox.template, "code"), eq(mailOutbox.status, "pending")),
    );
}

export interface DispatcherOptions {
  db: Database;
  transport: MailTransport;
  outboxKey: Buffer;
  from: string;
  logger: Logger;
  now: () => Date;
  pollIntervalMs?: number;
  /**
   * How long a claimed row belongs to this process. It must exceed the transport's timeout,
   * or another process may send the same row while this one still waits for the provider.
   */
  leaseMs?: number;
}

/**
 * Sends what the outbox holds. Rows are claimed with `FOR UPDATE SKIP LOCKED` and a lease, so
 * any number of processes share the work and a crashed process's rows are taken over.
 */
export class MailDispatcher {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Set while rounds fail, so that an outage is logged when it starts and when it ends. */
  private failing = false;

  constructor(private readonly options: DispatcherOptions) {}

  /** Starts polling for due rows, such as retries and rows left by a crashed process. */
  start(): void {
    this.stopped = false;
    this.timer ??= setInterval(() => this.kick(), this.options.pollIntervalMs ?? 2_000);
    this.timer.unref();
  }

  /** Stops polling and waits for the round in progress; later kicks do nothing. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Sends due mail now; calls made while a round runs start one more round after it. */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          while (!this.stopped && (await this.deliverBatch()) === BATCH_SIZE) {}
          if (this.failing) this.options.logger.info("mail dispatch recovered");
          this.failing = false;
        } catch (error) {
          // Polling repeats every few seconds, so an outage is logged once, not every round.
          if (!this.failing) this.options.logger.error({ err: error }, "mail dispatch failed");
          this.failing = true;
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Waits until no round is running, for tests and shutdown. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async deliverBatch(): Promise<number> {
    const now = this.options.now();
    const rows = await this.claim(now);
    await Promise.all(rows.map((row) => this.deliver(row)));
    return rows.length;
  }

  /**
   * Claims due rows. A code mail waits while an older code mail of its flow is still being
   * sent (that one was voided by the newer code, but its request may be under way), so the
   * last code mail to reach the provider is always the one with the live code.
   */
  private async claim(now: Date): Promise<OutboxRow[]> {
    const leaseUntil = new Date(now.getTime() + (this.options.leaseMs ?? DEFAULT_LEASE_MS));
    const due = sql`select ${mailOutbox.id} from ${mailOutbox}
      where ${mailOutbox.status} = 'pending' and ${mailOutbox.nextAttemptAt} <= ${now.toISOString()}
        and (${mailOutbox.leaseUntil} is null or ${mailOutbox.leaseUntil} < ${now.toISOString()})
        and not (${mailOutbox.template} = 'code' and exists (
          select 1 from mail_outbox sending
          where sending.flow_id = ${mailOutbox.flowId} and sending.template = 'code'
            and sending.id <> ${mailOutbox.id} and sending.lease_until >= ${now.toISOString()}))
      order by ${mailOutbox.nextAttemptAt} limit ${BATCH_SIZE} for update skip locked`;
    return this.options.db
      .update(mailOutbox)
      .set({ leaseUntil, attempts: sql`${mailOutbox.attempts} + 1` })
      .where(sql`${mailOutbox.id} in (${due})`)
      .returning();
  }

  private async deliver(row: OutboxRow): Promise<void> {
    const { db, logger, transport } = this.options;
    const log = logger.child({ outboxId: row.id, template: row.template, userId: row.userId });
    if (row.payload === null) return;
    const mail = renderMail(JSON.parse(decrypt(this.options.outboxKey, row.payload)) as MailTemplate);
    const result = await transport.send({ ...mail, from: this.options.from, to: row.recipient }, row.id);
    const now = this.options.now();

    if (result.ok) {
      // The code is erased as soon as the provider has the mail.
      await db
        .update(mailOutbox)
        .set({ status: "sent", payload: null, sentAt: now, leaseUntil: null, providerMessageId: result.providerMessageId })
        .where(eq(mailOutbox.id, row.id));
      log.info({ attempts: row.attempts }, "mail sent");
      return;
    }

    // A row dropped while it was being sent stays dropped; only a pending row changes.
    const stillPending = and(eq(mailOutbox.id, row.id), eq(mailOutbox.status, "pending"));
    const expired = now.getTime() - row.createdAt.getTime() >= RETRY_WINDOW_MS;
    if (!result.retryable || expired) {
      await db
        .update(mailOutbox)
        .set({ status: "failed", payload: null, leaseUntil: null, lastError: result.error })
        .where(stillPending);
      log.error({ attempts: row.attempts, error: result.error }, "mail failed permanently");
      return;
    }

    const backoffMs = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(row.attempts, 20));
    await db
      .update(mailOutbox)
      .set({ nextAttemptAt: new Date(now.getTime() + backoffMs), leaseUntil: null, lastError: result.error })
      .where(stillPending);
    log.warn({ attempts: row.attempts, retryInMs: backoffMs, error: result.error }, "mail send failed, will retry");
  }
}
