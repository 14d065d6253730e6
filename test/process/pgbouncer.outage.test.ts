/**
 * PostgreSQL stopped and started again behind PgBouncer: requests that PgBouncer cannot
 * serve get 503 `service_unavailable`, never 500, and the process serves again by itself
 * once PgBouncer reaches PostgreSQL again.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate, openDatabase } from "../../db/client.js";
import { type PgBouncer, pgBouncerUnavailableReason, startPgBouncer } from "../support/pgbouncer.js";
import { type PostgresCluster, clusterUnavailableReason, startPostgresCluster } from "../support/postgres-cluster.js";
import {
  type ServerProcess,
  callService,
  processTestsSkipReason,
  startServerProcess,
  stopServerProcesses,
  waitFor,
} from "../support/server-process.js";

const SERVER_PORT = 4457;
const POSTGRES_PORT = 55433;
const PGBOUNCER_PORT = 56433;
const REQUESTS_WHILE_DOWN = 6;

const skipReason =
  processTestsSkipReason("pgbouncer.outage.test.ts") ??
  // CI installs PgBouncer and has PostgreSQL's programs, so there a missing one fails.
  (process.env.CI ? null : (pgBouncerUnavailableReason() ?? clusterUnavailableReason()));
if (skipReason && process.env.DATABASE_URL) console.warn(`pgbouncer.outage.test.ts skipped: ${skipReason}.`);

let cluster: PostgresCluster | null = null;
let bouncer: PgBouncer | null = null;
let server: ServerProcess;

describe.skipIf(skipReason !== null)("PostgreSQL restart behind PgBouncer", () => {
  beforeAll(async () => {
    cluster = await startPostgresCluster(POSTGRES_PORT);
    const admin = postgres(cluster.urlOf("postgres"), { max: 1, onnotice: () => {} });
    await admin`create database mfa`;
    await admin.end();
    const direct = openDatabase({ url: cluster.urlOf("mfa"), poolSize: 1 });
    await migrate(direct.db);
    await direct.close();
    // Short waits keep the test quick: PgBouncer drops a waiting query after 3 s and tries
    // the server again every second.
    bouncer = await startPgBouncer(PGBOUNCER_PORT, "127.0.0.1", POSTGRES_PORT, {
      query_wait_timeout: "3",
      server_login_retry: "1",
    });
    server = await startServerProcess({
      port: SERVER_PORT,
      databaseUrl: bouncer.urlOf("mfa"),
      env: { DATABASE_PREPARE: "off" },
    });
  });
  afterAll(async () => {
    await stopServerProcesses();
    await bouncer?.stop();
    await cluster?.destroy();
  });

  it("returns 503 while down, then recovers", { timeout: 120_000 }, async () => {
    const before = await callService(server.url, "POST", "/v1/flows", { kind: "login" });
    expect(before.status, JSON.stringify(before.body)).toBe(201);

    await cluster!.stop("immediate");
    const whileDown = await Promise.all([
      callService(server.url, "GET", "/readyz"),
      ...Array.from({ length: REQUESTS_WHILE_DOWN }, () => callService(server.url, "POST", "/v1/flows", { kind: "login" })),
      callService(server.url, "GET", `/v1/flows/${before.body.id}`),
    ]);
    await cluster!.start();
    await waitFor(async () => (await callService(server.url, "GET", "/readyz")).status === 200, 60_000, "/readyz");
    const after = await callService(server.url, "GET", `/v1/flows/${before.body.id}`);
    const exit = await server.stop("SIGTERM");

    for (const response of whileDown) {
      expect(response.status, JSON.stringify(response.body)).toBe(503);
      expect(response.body).toEqual({ error: { code: "service_unavailable", message: expect.any(String) } });
    }
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    expect(after.body.state).toBe("awaitingCredentials");
    expect(server.logs.filter((line) => line.msg === "unhandled error")).toEqual([]);
    expect(server.logs.filter((line) => line.msg === "listening").length).toBe(1);
    expect(exit).toEqual({ code: 0, signal: null });
  });
});
