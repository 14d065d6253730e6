/**
 * Two service processes behind PgBouncer in transaction pooling mode, as most managed
 * PostgreSQL deployments run it. Both migrate the same empty database at once. Parallel
 * wrong codes on one flow spend exactly the allowed attempts, and parallel correct codes
 * issue exactly one session.
 */
import { readMigrationFiles } from "drizzle-orm/migrator";
import { and, eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "../../db/client.js";
import { flowJournal, flows, sessions } from "../../db/schema.js";
import { type TestDatabase, createTestDatabase } from "../support/database.js";
import { type PgBouncer, pgBouncerUnavailableReason, startPgBouncer } from "../support/pgbouncer.js";
import { readCodeFromMailbox, seedUsersWithMfa } from "../support/remote-login.js";
import { PASSWORD } from "../support/app.js";
import {
  type HttpResponse,
  type ServerProcess,
  callService,
  processTestsSkipReason,
  startServerProcess,
  stopServerProcesses,
  waitFor,
} from "../support/server-process.js";

const PGBOUNCER_PORT = 56432;
const SERVER_PORTS = [4455, 4456];
const PARALLEL = 20;
const MAX_WRONG_SUBMISSIONS = 5;

const skipReason =
  processTestsSkipReason("pgbouncer.pooling.test.ts") ??
  // CI installs PgBouncer, so there a missing one fails instead of skipping.
  (process.env.CI ? null : pgBouncerUnavailableReason());
if (skipReason && process.env.DATABASE_URL) console.warn(`pgbouncer.pooling.test.ts skipped: ${skipReason}.`);

let database: TestDatabase;
let bouncer: PgBouncer | null = null;
let servers: ServerProcess[] = [];

/** Sends one request to each process in turn, all at once. */
function inParallel(path: string, body: unknown): Promise<HttpResponse[]> {
  return Promise.all(
    Array.from({ length: PARALLEL }, (_, index) => callService(servers[index % servers.length]!.url, "POST", path, body)),
  );
}

function countBy(responses: HttpResponse[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const response of responses) {
    const key = `${response.status} ${response.body?.error?.code ?? response.body?.state}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Signs in up to the code through the first process and returns the flow and its code. */
async function startLoginWithCode(email: string): Promise<{ flowId: string; code: string }> {
  const created = await callService(servers[0]!.url, "POST", "/v1/flows", { kind: "login" });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const flowId = created.body.id as string;
  const submitted = await callService(servers[1]!.url, "POST", `/v1/flows/${flowId}/events`, {
    type: "SUBMIT_CREDENTIALS",
    email,
    password: PASSWORD,
  });
  expect(submitted.body.state, JSON.stringify(submitted.body)).toBe("awaitingCode");
  const readCode = readCodeFromMailbox(database.db);
  let code: string | null = null;
  await waitFor(async () => (code = await readCode(flowId)) !== null, 15_000, "the code mail");
  return { flowId, code: code! };
}

describe.skipIf(skipReason !== null)("behind PgBouncer in transaction pooling mode", () => {
  beforeAll(async () => {
    database = await createTestDatabase({ migrated: false });
    const direct = new URL(database.url!);
    bouncer = await startPgBouncer(PGBOUNCER_PORT, direct.hostname, Number(direct.port || 5432));
    const throughBouncer = bouncer.urlOf(direct.pathname.slice(1));
    // Both start on the empty database at once, so both try to migrate it. PgBouncer 1.18,
    // Debian 12's version, keeps no prepared statements in transaction pooling mode.
    servers = await Promise.all(
      SERVER_PORTS.map((port) =>
        startServerProcess({ port, databaseUrl: throughBouncer, env: { DATABASE_PREPARE: "off" } }),
      ),
    );
  });
  afterAll(async () => {
    await stopServerProcesses();
    await bouncer?.stop();
    await database?.destroy();
  });

  it("applies each migration once", async () => {
    const migrations = readMigrationFiles({ migrationsFolder: "db/migrations" });
    const applied = rowsOf<{ hash: string }>(await database.db.execute(sql`select hash from schema_migrations`));
    expect(applied.map((row) => row.hash).sort()).toEqual(migrations.map((migration) => migration.hash).sort());
    const counts = servers.map((server) => server.logs.find((line) => line.msg === "database ready")?.migrationsApplied);
    expect(counts.sort()).toEqual([0, migrations.length]);
    // The processes reached PostgreSQL through PgBouncer, not around it.
    expect(bouncer!.log()).toContain(`login attempt: db=${new URL(database.url!).pathname.slice(1)} user=postgres`);
  });

  it("evaluates five parallel wrong codes", async () => {
    const [user] = await seedUsersWithMfa(database.db, 1, "pooled-wrong");
    const { flowId, code } = await startLoginWithCode(user!.email);
    const wrong = code === "000000" ? "111111" : "000000";

    const responses = await inParallel(`/v1/flows/${flowId}/events`, { type: "SUBMIT_CODE", code: wrong });

    expect(countBy(responses)).toEqual({
      "422 invalid_code": MAX_WRONG_SUBMISSIONS - 1,
      "423 too_many_attempts": 1,
      "409 flow_finished": PARALLEL - MAX_WRONG_SUBMISSIONS,
    });
    const evaluated = await database.db
      .select()
      .from(flowJournal)
      .where(and(eq(flowJournal.flowId, flowId), inArray(flowJournal.outcome, ["invalid_code", "too_many_attempts"])));
    expect(evaluated.length).toBe(MAX_WRONG_SUBMISSIONS);
    const [stored] = await database.db.select().from(flows).where(eq(flows.id, flowId));
    expect(stored?.state).toBe("locked");
    expect((stored?.snapshot as { context: { wrongSubmissions: number } }).context.wrongSubmissions).toBe(MAX_WRONG_SUBMISSIONS);
  });

  it("issues one session for parallel codes", async () => {
    const [user] = await seedUsersWithMfa(database.db, 1, "pooled-right");
    const { flowId, code } = await startLoginWithCode(user!.email);

    const responses = await inParallel(`/v1/flows/${flowId}/events`, { type: "SUBMIT_CODE", code });

    expect(countBy(responses)).toEqual({
      "200 authenticated": 1,
      "409 flow_finished": PARALLEL - 1,
    });
    const winner = responses.find((response) => response.status === 200)!;
    expect(winner.body.output.sessionToken).toEqual(expect.any(String));
    const stored = await database.db.select().from(sessions).where(eq(sessions.userId, user!.id));
    expect(stored.length).toBe(1);
  });

  it("stops both processes cleanly", async () => {
    const exits = await Promise.all(servers.map((server) => server.stop("SIGTERM")));
    expect(exits).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
    const errors = servers.flatMap((server) => server.logs.filter((line) => (line.level as number) >= 50));
    expect(errors).toEqual([]);
  });
});
