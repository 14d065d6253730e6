/**
 * The benchmark's PostgreSQL side: starting the local cluster when it is down, building a
 * template database (migrated, seeded, optionally filled to scale) and copying it for each
 * measured run, so that every run starts from the same rows. Every database it creates is
 * named `bench_*` and dropped at the end.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import postgres from "postgres";
import { migrate, openDatabase } from "../db/client.js";

/** Users that the virtual users sign in as; each has MFA on. */
export const BENCH_USERS = 2_000;
export const BENCH_PASSWORD = "bench password 0123456789";

export function benchUserEmail(index: number): string {
  return `bench-${index}@example.com`;
}

/** Rows put in the tables before a scale run, as if the service had been used for a month. */
export const SCALE = { users: 100_000, flows: 1_000_000 };

type Sql = postgres.Sql;

function isReady(adminUrl: string): boolean {
  const url = new URL(adminUrl);
  try {
    execFileSync("pg_isready", ["-q", "-h", url.hostname, "-p", url.port || "5432"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Starts the local PostgreSQL cluster unless it already accepts connections. */
export async function ensurePostgres(adminUrl: string): Promise<void> {
  if (isReady(adminUrl)) return;
  const versions = readdirSync("/etc/postgresql");
  const version = versions.sort().at(-1);
  if (!version) throw new Error("PostgreSQL is not running and /etc/postgresql holds no cluster to start.");
  console.log(`Starting PostgreSQL ${version} (main cluster).`);
  execFileSync("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", "start"], { stdio: "inherit" });
  for (let second = 0; second < 30; second += 1) {
    if (isReady(adminUrl)) return;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  throw new Error(`PostgreSQL did not accept connections at ${new URL(adminUrl).host} within 30 s.`);
}

export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates, copies and drops the benchmark's databases, and drops them all on `close()`. */
export class BenchDatabases {
  readonly prefix = `bench_${randomBytes(4).toString("hex")}`;
  private readonly admin: Sql;
  private readonly created: string[] = [];
  private copies = 0;

  constructor(readonly adminUrl: string) {
    this.admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  }

  /** Reads the server settings that the report names. */
  async describeServer(): Promise<Record<string, string>> {
    const names = [
      "server_version",
      "shared_buffers",
      "synchronous_commit",
      "fsync",
      "wal_level",
      "max_connections",
      "work_mem",
      "max_wal_size",
    ];
    const rows = await this.admin<{ name: string; setting: string }[]>`
      select name, current_setting(name) as setting from pg_settings where name in ${this.admin(names)}`;
    return Object.fromEntries(rows.map((row) => [row.name, row.setting]));
  }

  /** Creates a migrated template with the benchmark users, filled to scale when asked. */
  async createTemplate(label: string, passwordHash: string, scale: boolean): Promise<string> {
    const name = `${this.prefix}_${label}`;
    await this.create(name);
    const handle = openDatabase({ url: databaseUrl(this.adminUrl, name), poolSize: 1 });
    await migrate(handle.db);
    await handle.close();

    const sql = postgres(databaseUrl(this.adminUrl, name), { max: 1, onnotice: () => {} });
    try {
      await seedUsers(sql, passwordHash);
      if (scale) await fillToScale(sql);
      await sql`vacuum analyze`;
    } finally {
      await sql.end();
    }
    return name;
  }

  /** Copies a template into a new database for one run. */
  async copy(template: string): Promise<string> {
    this.copies += 1;
    const name = `${this.prefix}_run${this.copies}`;
    // FILE_COPY copies the files instead of writing every page to the WAL (PostgreSQL 15+).
    const [row] = await this.admin<{ version: number }[]>`select current_setting('server_version_num')::int as version`;
    const strategy = (row?.version ?? 0) >= 150_000 ? " strategy file_copy" : "";
    await this.admin.unsafe(`create database ${name} template ${template}${strategy}`);
    this.created.push(name);
    return name;
  }

  async drop(name: string): Promise<void> {
    await this.admin.unsafe(`drop database if exists ${name} with (force)`);
    const index = this.created.indexOf(name);
    if (index >= 0) this.created.splice(index, 1);
  }

  /** Drops every database this benchmark created. */
  async close(): Promise<void> {
    for (const name of [...this.created].reverse()) await this.drop(name);
    await this.admin.end({ timeout: 5 });
  }

  private async create(name: string): Promise<void> {
    await this.admin.unsafe(`create database ${name}`);
    this.created.push(name);
  }
}

/** Inserts the benchmark users, MFA on, all with one precomputed hash of `BENCH_PASSWORD`. */
async function seedUsers(sql: Sql, passwordHash: string): Promise<void> {
  await sql`
    insert into users (id, email, password_hash, mfa_enabled)
    select 'bench-user-' || n, 'bench-' || n || '@example.com', ${passwordHash}, true
    from generate_series(0, ${BENCH_USERS - 1}) as n`;
}

/** Sets the password hash of the benchmark users, for a run with another hash setting. */
export async function setBenchPasswordHash(url: string, passwordHash: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`update users set password_hash = ${passwordHash} where id like 'bench-user-%'`;
  } finally {
    await sql.end();
  }
}

/**
 * Fills the tables as a month of use would: 100,000 other users and 1,000,000 finished
 * login flows spread over the last 28 days (inside the 30 days that retention keeps), each
 * with its three journal rows, its session (signed out) and its sent code mail.
 */
async function fillToScale(sql: Sql): Promise<void> {
  const started = Date.now();
  const { users, flows } = SCALE;
  // Ids are hex digests, so that index inserts land as randomly as the service's random ids.
  await sql`
    insert into users (id, email, password_hash, mfa_enabled, created_at, updated_at)
    select 'fill-user-' || n, 'fill-' || n || '@example.com', 'not-a-hash', n % 2 = 0,
      now() - interval '60 days', now() - interval '60 days'
    from generate_series(1, ${users}) as n`;
  console.log(`  filled ${users} users (${seconds(started)} s)`);

  await sql`
    insert into flows (id, kind, user_id, machine_version, version, state, status, snapshot, expires_at, created_at, updated_at)
    select md5('flow' || n) || substr(md5('id' || n), 1, 16), 'login', 'fill-user-' || (1 + n % ${users}), 1, 3,
      'authenticated', 'done',
      jsonb_build_object(
        'value', 'authenticated',
        'context', jsonb_build_object(
          'limits', jsonb_build_object('codeTtlMs', 600000, 'flowTtlMs', 900000, 'maxWrongSubmissions', 5,
            'maxCodesPerFlow', 5, 'resendCooldownMs', 60000),
          'userId', 'fill-user-' || (1 + n % ${users}), 'sentTo', 'f***@example.com',
          'expiresAt', (extract(epoch from at) * 1000)::bigint + 900000, 'wrongSubmissions', 0,
          'codeHash', null, 'codeExpiresAt', null, 'codesSent', 1, 'resendAvailableAt', null)),
      at + interval '15 minutes', at, at + interval '20 seconds'
    from (select n, now() - interval '28 days' + n * (interval '28 days' / ${flows}) as at
          from generate_series(1, ${flows}) as n) as spread`;
  console.log(`  filled ${flows} flows (${seconds(started)} s)`);

  await sql`
    insert into flow_journal (flow_id, flow_version, event_type, outcome, state, created_at)
    select f.id, step.version, step.event_type, 'ok', step.state, f.created_at + step.after
    from flows as f
    cross join (values (1, 'xstate.init', 'awaitingCredentials', interval '0 s'),
                       (2, 'SUBMIT_CREDENTIALS', 'awaitingCode', interval '5 s'),
                       (3, 'SUBMIT_CODE', 'authenticated', interval '20 s'))
      as step(version, event_type, state, after)
    where f.id not like 'bench%'
    order by f.created_at, step.version`;
  console.log(`  filled ${flows * 3} journal rows (${seconds(started)} s)`);

  await sql`
    insert into sessions (id, user_id, token_hash, authentication_method, authenticated_at, code_verified_at,
      expires_at, revoked_at, created_at)
    select substr(md5('session' || f.id), 1, 22), f.user_id, md5('token' || f.id) || md5('hash' || f.id), 'code',
      f.updated_at, f.updated_at, f.updated_at + interval '12 hours', f.updated_at + interval '1 minute', f.updated_at
    from flows as f`;
  console.log(`  filled ${flows} sessions (${seconds(started)} s)`);

  await sql`
    insert into mail_outbox (id, flow_id, user_id, recipient, template, payload, status, attempts, next_attempt_at,
      sent_at, provider_message_id, created_at)
    select substr(md5('mail' || f.id), 1, 22), f.id, f.user_id, 'fill@example.com', 'code', null, 'sent', 1,
      f.created_at + interval '5 s', f.created_at + interval '6 s', md5('message' || f.id), f.created_at + interval '5 s'
    from flows as f`;
  console.log(`  filled ${flows} outbox rows (${seconds(started)} s)`);
}

function seconds(since: number): number {
  return Math.round((Date.now() - since) / 1000);
}
