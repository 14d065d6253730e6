/**
 * Opens the database: PostgreSQL through postgres.js when a URL is given, the embedded PGlite
 * otherwise. Both speak the same SQL and run the same migrations.
 */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { readMigrationFiles } from "drizzle-orm/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema.js";

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];

export interface DatabaseHandle {
  db: Database;
  /** `postgres` or `pglite`, for start-up logs. */
  driver: "postgres" | "pglite";
  /** Where the data lives, without credentials. */
  location: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A `postgres://` URL; without it PGlite is used. */
  url?: string;
  /** Folder of the embedded database; `memory://` keeps it in memory. */
  dataDir?: string;
  /** Connections in the postgres.js pool. */
  poolSize?: number;
  /**
   * Whether postgres.js prepares named statements (default false). Without them, postgres.js
   * 3.4 sends each statement with parameters in two round trips (Parse and Describe, then Bind
   * and Execute), and the statements of a batch no longer share a round trip. A prepared
   * statement takes one round trip from its second use on a connection.
   */
  prepare?: boolean;
  /** Called with each statement that Drizzle sends, for tests that count them. */
  onQuery?: (query: string) => void;
}

const MIGRATIONS_FOLDER = fileURLToPath(new URL("./migrations", import.meta.url));
/** Any fixed number; every process that migrates this schema uses the same one. */
const MIGRATION_LOCK_KEY = 7_264_339_101;
/**
 * postgres.js waits up to 20 s between reconnects by default (3^n / 100 s), and a query waits
 * for that reconnect, so requests would hang that long while the database is down and stay
 * slow after it is back. A short wait makes them fail fast with 503 and recover at once.
 */
const MAX_RECONNECT_DELAY_SECONDS = 1;

/** Opens the database that the options select; it is not migrated yet. */
export function openDatabase(options: DatabaseOptions): DatabaseHandle {
  if (options.url) {
    const client = postgres(options.url, {
      max: options.poolSize ?? 10,
      // PgBouncer before 1.21 cannot keep prepared statements across transactions in
      // transaction pooling mode, so it needs `prepare: false`.
      prepare: options.prepare ?? false,
      onnotice: () => {},
      connect_timeout: 10,
      // postgres.js fetches array types on each new connection in a promise that nothing
      // awaits, so a failure there (PgBouncer reports 08P01 while PostgreSQL is down) ended
      // the process as an unhandled rejection. The schema has no array columns.
      fetch_types: false,
      backoff: (retries: number) => Math.min(0.05 * 2 ** retries, MAX_RECONNECT_DELAY_SECONDS),
    });
    const parsed = new URL(options.url);
    return {
      db: drizzlePostgres(options.prepare ? preparingStatements(client) : client, {
        schema,
        logger: queryLogger(options),
      }) as unknown as Database,
      driver: "postgres",
      location: `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`,
      close: () => client.end({ timeout: 5 }),
    };
  }
  const dataDir = options.dataDir ?? ".data";
  if (!dataDir.startsWith("memory://")) mkdirSync(dataDir, { recursive: true });
  const client = new PGlite(dataDir);
  return {
    db: drizzlePglite(client, { schema, logger: queryLogger(options) }) as unknown as Database,
    driver: "pglite",
    location: dataDir,
    close: () => client.close(),
  };
}

type Sql = postgres.Sql | postgres.TransactionSql;

/**
 * Wraps a postgres.js client so that every statement that Drizzle sends is prepared. Drizzle
 * 0.45 requests a prepared statement only for queries named with `.prepare()`, and a
 * named query belongs to the client or transaction that made it, so it cannot be reused inside
 * the next event's transaction. postgres.js keeps the prepared statements per connection, keyed
 * by their SQL text; every statement here is parameterized, so their number stays bounded.
 */
function preparingStatements<T extends Sql>(client: T): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === "unsafe") {
        return (query: string, parameters?: unknown[], queryOptions?: postgres.UnsafeQueryOptions) =>
          target.unsafe(query, parameters as never, { ...queryOptions, prepare: true });
      }
      if (property === "begin" || property === "savepoint") {
        const method = Reflect.get(target, property, receiver) as (...args: unknown[]) => unknown;
        return (...args: unknown[]) => {
          const callback = args.pop() as (scoped: Sql) => unknown;
          return method.call(target, ...args, (scoped: Sql) => callback(preparingStatements(scoped)));
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

function queryLogger(options: DatabaseOptions) {
  const onQuery = options.onQuery;
  return onQuery ? { logQuery: (query: string) => onQuery(query) } : undefined;
}

/** Returns the rows of a raw query result from either driver. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return (result as { rows: T[] }).rows;
}

/**
 * Applies the migrations that are not applied yet, in one transaction that holds an advisory
 * lock, so that processes starting together apply each migration once. A transaction-level
 * lock also works behind a transaction-pooling PgBouncer.
 */
export async function migrate(db: Database): Promise<number> {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.execute(
      sql`create table if not exists schema_migrations (hash text primary key, applied_at timestamptz not null default now())`,
    );
    const applied = new Set(
      rowsOf<{ hash: string }>(await tx.execute(sql`select hash from schema_migrations`)).map(
        (row) => row.hash,
      ),
    );
    let count = 0;
    for (const migration of migrations) {
      if (applied.has(migration.hash)) continue;
      for (const statement of migration.sql) {
        if (statement.trim()) await tx.execute(sql.raw(statement));
      }
      await tx.execute(sql`insert into schema_migrations (hash) values (${migration.hash})`);
      count += 1;
    }
    return count;
  });
}
