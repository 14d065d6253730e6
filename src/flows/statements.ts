/**
 * The statements that every flow event sends, written as SQL text instead of through Drizzle's
 * query builder. The builder takes about 50 µs of CPU to build a select or an update of
 * `flows` (measured in-process on the 2-core benchmark machine). A sign-in sends these
 * statements seven times, so writing them out saves that work on the busiest path.
 *
 * Identifiers are quoted as Drizzle quotes them, so the statement lists that the tests record
 * read the same. Both drivers return `jsonb` as parsed objects.
 */
import { sql } from "drizzle-orm";
import { type Database, type Transaction, rowsOf } from "../../db/client.js";

type Executor = Database | Transaction;

/** The columns of a flow row that the runtime reads. */
export interface FlowRow {
  id: string;
  kind: string;
  userId: string | null;
  machineVersion: number;
  /** Row version, incremented by every stored transition. */
  version: number;
  snapshot: unknown;
}

export interface NewFlow {
  id: string;
  kind: string;
  userId: string | null;
  machineVersion: number;
  state: string;
  snapshot: unknown;
  expiresAt: Date;
  createdAt: Date;
}

export interface FlowChange {
  snapshot: unknown;
  state: string;
  status: "active" | "done";
  version: number;
  userId: string | null;
  updatedAt: Date;
}

export interface JournalEntry {
  flowId: string;
  flowVersion: number;
  eventType: string;
  /** `ok`, or the error code of the event's response. */
  outcome: string;
  state: string;
  createdAt: Date;
}

/**
 * Inserts a flow and its first journal row. One statement with a data-modifying `WITH` clause
 * writes both atomically, so it needs no transaction and takes one round trip.
 */
export async function insertFlow(db: Executor, flow: NewFlow): Promise<void> {
  const createdAt = flow.createdAt.toISOString();
  await db.execute(sql`with "created" as (
      insert into "flows" ("id", "kind", "user_id", "machine_version", "state", "status", "snapshot",
                           "expires_at", "created_at", "updated_at")
      values (${flow.id}, ${flow.kind}, ${flow.userId}, ${flow.machineVersion}, ${flow.state}, 'active',
              ${JSON.stringify(flow.snapshot)}::jsonb, ${flow.expiresAt.toISOString()}::timestamptz,
              ${createdAt}::timestamptz, ${createdAt}::timestamptz)
    )
    insert into "flow_journal" ("flow_id", "flow_version", "event_type", "outcome", "state", "created_at")
    values (${flow.id}, 1, 'xstate.init', 'ok', ${flow.state}, ${createdAt}::timestamptz)`);
}

/** Reads a flow row, locking it `FOR UPDATE` when asked. */
export async function selectFlow(db: Executor, id: string, lock: boolean): Promise<FlowRow | undefined> {
  const result = lock
    ? await db.execute(sql`select "id", "kind", "user_id" as "userId", "machine_version" as "machineVersion", "version", "snapshot"
        from "flows" where "id" = ${id} limit 1 for update`)
    : await db.execute(sql`select "id", "kind", "user_id" as "userId", "machine_version" as "machineVersion", "version", "snapshot"
        from "flows" where "id" = ${id} limit 1`);
  return rowsOf<FlowRow>(result)[0];
}

/** Stores a flow's new snapshot and the columns derived from it. */
export async function updateFlow(db: Executor, id: string, change: FlowChange): Promise<void> {
  await db.execute(sql`update "flows"
    set "snapshot" = ${JSON.stringify(change.snapshot)}::jsonb, "state" = ${change.state}, "status" = ${change.status},
        "version" = ${change.version}, "user_id" = ${change.userId}, "updated_at" = ${change.updatedAt.toISOString()}::timestamptz
    where "id" = ${id}`);
}

export async function insertJournalEntry(db: Executor, entry: JournalEntry): Promise<void> {
  await db.execute(sql`insert into "flow_journal" ("flow_id", "flow_version", "event_type", "outcome", "state", "created_at")
    values (${entry.flowId}, ${entry.flowVersion}, ${entry.eventType}, ${entry.outcome}, ${entry.state},
            ${entry.createdAt.toISOString()}::timestamptz)`);
}
