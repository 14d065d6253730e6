/**
 * A fresh database for each test file: an in-memory PGlite by default, or a new PostgreSQL
 * database created next to the one that `DATABASE_URL` names.
 */
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { type DatabaseHandle, migrate, openDatabase } from "../../db/client.js";

export interface TestDatabase extends DatabaseHandle {
  /** The URL of the PostgreSQL database, when the suite runs on PostgreSQL. */
  url: string | null;
  /** Closes the connections and drops the database. */
  destroy(): Promise<void>;
}

export const onPostgres = Boolean(process.env.DATABASE_URL);

/** Creates an empty database for one test file, migrated unless `migrated` is false. */
export async function createTestDatabase(
  options: { migrated?: boolean; onQuery?: (query: string) => void } = {},
): Promise<TestDatabase> {
  const migrated = options.migrated ?? true;
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) {
    const handle = openDatabase({ dataDir: "memory://", onQuery: options.onQuery });
    if (migrated) await migrate(handle.db);
    return { ...handle, url: null, destroy: () => handle.close() };
  }
  const name = `mfa_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const handle = openDatabase({ url: url.toString(), poolSize: 5, onQuery: options.onQuery });
  if (migrated) await migrate(handle.db);
  return {
    ...handle,
    url: url.toString(),
    async destroy() {
      await handle.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
