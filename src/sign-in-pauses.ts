/**
 * The sign-in pause: failed sign-ins of login flows are counted per lower-cased address,
 * registered or not, in the transaction of the event that failed. Each time the count of
 * failures in a row reaches a multiple of the threshold, sign-in for the address pauses, each
 * pause twice as long as the last, up to a maximum. Only a sign-in that reaches
 * `authenticated` resets the count.
 */
import { type SQL, and, eq, gt, isNull, lte, or, sql } from "drizzle-orm";
import type { Database, Transaction } from "../db/client.js";
import { flows, signInFailures, users } from "../db/schema.js";
import { recordAudit } from "./audit.js";
import type { SignInPausePolicy } from "./config.js";
import { queueMail } from "./mail/outbox.js";
import { findUser, normalizeEmail } from "./users.js";

const DAY_MS = 24 * 60 * 60_000;

/** Outcomes of a login event that count as failed sign-ins. */
const COUNTED_OUTCOMES = new Set(["invalid_credentials", "invalid_code", "too_many_attempts"]);

/** The failure count of an address and when its pause ends, as read under the row lock. */
export interface SignInFailureState {
  failures: number;
  /** When the running pause ends; null when the address is not paused. */
  pausedUntil: Date | null;
}

/**
 * Reads and locks the failure row of the address that a login event is subject to: the
 * submitted email for `SUBMIT_CREDENTIALS`, the flow's user for `SUBMIT_CODE` of a login flow.
 * Returns null, and sends nothing, for other events. The row stays locked until the transaction
 * ends, so that login events for one address are evaluated one after the other, whatever flow
 * or process they come through, and no failure gets past a pause that another one started.
 */
export async function lockSignInFailures(
  tx: Transaction,
  eventType: string,
  submittedEmail: unknown,
  flowId: string,
  now: Date,
): Promise<SignInFailureState | null> {
  let email: SQL | string;
  if (eventType === "SUBMIT_CREDENTIALS") {
    email = normalizeEmail(String(submittedEmail));
  } else if (eventType === "SUBMIT_CODE") {
    // A code submission is checked only under the flow lock, so its address comes from the flow.
    email = sql`(select ${users.email} from ${flows} join ${users} on ${users.id} = ${flows.userId}
      where ${flows.id} = ${flowId} and ${flows.kind} = 'login')`;
  } else {
    return null;
  }
  // With no row, FOR UPDATE locks nothing, and parallel events of one address would all read
  // no failures and all be evaluated. The row is created first: a second insert of the same
  // address waits for the first one's commit, so the events queue on the row's lock. Both
  // statements go out in one round trip.
  const [, [row]] = await Promise.all([
    tx.execute(sql`insert into ${signInFailures} (${sql.identifier(signInFailures.email.name)})
      select address from (select (${email})::text as address) as submitted where address is not null
      on conflict do nothing`),
    tx
      .select({ failures: signInFailures.failures, pausedUntil: signInFailures.pausedUntil })
      .from(signInFailures)
      .where(eq(signInFailures.email, email))
      .for("update"),
  ]);
  if (!row) return { failures: 0, pausedUntil: null };
  return { failures: row.failures, pausedUntil: row.pausedUntil && row.pausedUntil > now ? row.pausedUntil : null };
}

export interface RecordedFailure {
  /** Failures in a row, this one included. */
  failures: number;
  pausedUntil: Date | null;
  /** This failure started a pause. */
  pauseStarted: boolean;
}

/**
 * Counts one failure with a single `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`, which also
 * starts the next pause when the count reaches a multiple of the threshold.
 */
export async function recordSignInFailure(
  tx: Transaction,
  email: string,
  now: Date,
  policy: SignInPausePolicy,
): Promise<RecordedFailure> {
  const count = sql`(${signInFailures.failures} + 1)`;
  // The n-th pause lasts firstPauseMs * 2^(n-1); the exponent is capped to stay a finite float.
  const pauseMs = sql`least(${policy.maxPauseMs}::float8, ${policy.firstPauseMs}::float8 * power(2, least(30, ${count} / ${policy.threshold}::int - 1)))`;
  const [row] = await tx
    .insert(signInFailures)
    .values({
      email,
      failures: 1,
      pausedUntil: policy.threshold === 1 ? new Date(now.getTime() + policy.firstPauseMs) : null,
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: signInFailures.email,
      set: {
        failures: count,
        pausedUntil: sql`case when ${count} % ${policy.threshold}::int = 0
          then ${now.toISOString()}::timestamptz + ${pauseMs} * interval '1 millisecond'
          else ${signInFailures.pausedUntil} end`,
        updatedAt: now,
      },
    })
    .returning({ failures: signInFailures.failures, pausedUntil: signInFailures.pausedUntil });
  if (!row) throw new Error("The sign-in failure count was not returned.");
  return { ...row, pauseStarted: row.failures % policy.threshold === 0 };
}

/** Resets the count after a sign-in reached `authenticated`; a running pause still ends on time. */
export async function resetSignInFailures(tx: Transaction, email: string, now: Date): Promise<void> {
  await tx
    .update(signInFailures)
    .set({ failures: 0, updatedAt: now })
    .where(and(eq(signInFailures.email, email), gt(signInFailures.failures, 0)));
}

/** Deletes the pause and the failure count of an address; returns whether there was one. */
export async function liftSignInPause(db: Database, email: string): Promise<boolean> {
  const rows = await db
    .delete(signInFailures)
    .where(eq(signInFailures.email, email))
    .returning({ email: signInFailures.email });
  return rows.length > 0;
}

export interface SignInOutcome {
  email: string;
  /** The count before this event, from `lockSignInFailures`. */
  failuresBefore: number;
  /** `ok`, or the error code of the event's response. */
  outcome: string;
  authenticated: boolean;
  flowId: string;
  now: Date;
  policy: SignInPausePolicy;
  outboxKey: Buffer;
}

/**
 * Counts a failed sign-in or resets the count after a successful one, in the event's
 * transaction. When a failure starts a pause, the owner of a registered address is mailed,
 * at most once a day. Returns whether mail was queued.
 */
export async function applySignInOutcome(tx: Transaction, outcome: SignInOutcome): Promise<boolean> {
  const { email, now } = outcome;
  if (outcome.authenticated) {
    if (outcome.failuresBefore > 0) await resetSignInFailures(tx, email, now);
    return false;
  }
  if (!COUNTED_OUTCOMES.has(outcome.outcome)) return false;

  const recorded = await recordSignInFailure(tx, email, now, outcome.policy);
  if (!recorded.pauseStarted || !recorded.pausedUntil) return false;
  const owner = await findUser(tx, { email });
  await recordAudit(tx, {
    actor: "system",
    type: "sign_in_paused",
    userId: owner?.user.id ?? null,
    flowId: outcome.flowId,
    details: { failures: recorded.failures, pausedUntil: recorded.pausedUntil.toISOString() },
  });
  if (!owner || !(await claimPauseNotification(tx, email, now))) return false;
  await queueMail(tx, outcome.outboxKey, {
    recipient: owner.user.email,
    mail: {
      template: "sign_in_paused",
      failures: recorded.failures,
      pausedUntil: recorded.pausedUntil.toISOString().slice(0, 16).replace("T", " "),
    },
    userId: owner.user.id,
    now,
  });
  return true;
}

/** Marks the owner as mailed unless a mail went out in the last day; returns whether to mail. */
async function claimPauseNotification(tx: Transaction, email: string, now: Date): Promise<boolean> {
  const rows = await tx
    .update(signInFailures)
    .set({ ownerNotifiedAt: now })
    .where(
      and(
        eq(signInFailures.email, email),
        or(isNull(signInFailures.ownerNotifiedAt), lte(signInFailures.ownerNotifiedAt, new Date(now.getTime() - DAY_MS))),
      ),
    )
    .returning({ email: signInFailures.email });
  return rows.length > 0;
}
