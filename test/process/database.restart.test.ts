/**
 * PostgreSQL stopped and started again under a load of sign-ins. While it is down, requests
 * get 503 `service_unavailable` (never 500), and so does `/readyz`. Once it is back, the same
 * process serves again by itself, and the flows and mails go on where they were.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseHandle, migrate, openDatabase } from "../../db/client.js";
import { mailOutbox } from "../../db/schema.js";
import { type PostgresCluster, clusterUnavailableReason, startPostgresCluster } from "../support/postgres-cluster.js";
import { type Outcome, readCodeFromMailbox, seedUsersWithMfa, signInThroughFailures } from "../support/remote-login.js";
import {
  type ServerProcess,
  callService,
  processTestsSkipReason,
  startServerProcess,
  stopServerProcesses,
  waitFor,
} from "../support/server-process.js";

const SERVER_PORT = 4454;
const POSTGRES_PORT = 55432;
const USERS = 10;

const skipReason =
  processTestsSkipReason("database.restart.test.ts") ??
  // CI has PostgreSQL's programs, so there a missing one fails instead of skipping.
  (process.env.CI ? null : clusterUnavailableReason());
if (skipReason && process.env.DATABASE_URL) console.warn(`database.restart.test.ts skipped: ${skipReason}.`);

let cluster: PostgresCluster | null = null;
let database: DatabaseHandle | null = null;

describe.skipIf(skipReason !== null)("PostgreSQL restart", () => {
  beforeAll(async () => {
    cluster = await startPostgresCluster(POSTGRES_PORT);
    const admin = postgres(cluster.urlOf("postgres"), { max: 1, onnotice: () => {} });
    await admin`create database mfa`;
    await admin.end();
    database = openDatabase({ url: cluster.urlOf("mfa"), poolSize: 3 });
    await migrate(database.db);
  });
  afterAll(async () => {
    await stopServerProcesses();
    await database?.close();
    await cluster?.destroy();
  });

  it("returns 503 while down, then recovers", { timeout: 180_000 }, async () => {
    const db = database!.db;
    const seeded = await seedUsersWithMfa(db, USERS, "restart");
    const server: ServerProcess = await startServerProcess({
      port: SERVER_PORT,
      databaseUrl: cluster!.urlOf("mfa"),
      // A mail sent while PostgreSQL went down is sent again once its short lease runs out.
      env: { MAIL_TIMEOUT_SECONDS: "1" },
    });
    const outcomes: Outcome[] = [];
    const readCode = readCodeFromMailbox(db);
    const deadline = Date.now() + 150_000;
    let running = true;
    let recovered = false;
    const signedInAfterRecovery = new Set<string>();
    // Each client signs in again and again until it has done so once after the restart.
    const clients = seeded.map(async (user) => {
      while (running) {
        await signInThroughFailures({ baseUrls: [server.url], email: user.email, readCode, outcomes, deadline });
        if (recovered) {
          signedInAfterRecovery.add(user.email);
          return;
        }
      }
    });
    const completed = () => outcomes.filter((outcome) => outcome.status === 200 && outcome.path.endsWith("/events")).length;
    await waitFor(() => completed() >= 2 * USERS, 60_000, "the load to start");

    await cluster!.stop("immediate");
    const downAt = outcomes.length;
    const readyWhileDown = await callService(server.url, "GET", "/readyz");
    await waitFor(
      () => outcomes.slice(downAt).filter((outcome) => outcome.status === 503).length >= 2 * USERS,
      30_000,
      "requests to fail while PostgreSQL is down",
    );
    await cluster!.start();
    const upAt = outcomes.length;
    await waitFor(async () => (await callService(server.url, "GET", "/readyz")).status === 200, 60_000, "/readyz");
    recovered = true;
    await waitFor(() => signedInAfterRecovery.size === USERS, 90_000, "every client to sign in after the restart");
    running = false;
    await Promise.all(clients);
    await waitFor(
      async () => (await db.select().from(mailOutbox)).every((row) => row.status === "sent"),
      30_000,
      "the outbox to drain",
    );
    const pid = server.child.pid;
    const exit = await server.stop("SIGTERM");

    expect(readyWhileDown.status).toBe(503);
    expect(readyWhileDown.body).toEqual({ error: { code: "service_unavailable", message: expect.any(String) } });
    const failures = outcomes.filter((outcome) => outcome.status !== 200 && outcome.status !== 201);
    const unexpected = failures.filter(
      (outcome) =>
        outcome.status !== 503 ||
        JSON.stringify(outcome.body) !== JSON.stringify({ error: { code: "service_unavailable", message: "The service is unavailable; retry later." } }),
    );
    expect(unexpected).toEqual([]);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.filter((outcome) => outcome.retryAfter !== "1")).toEqual([]);
    expect(server.logs.filter((line) => line.msg === "unhandled error")).toEqual([]);
    // A login flow id is its client's only credential, so the errors logged during the outage
    // must not carry it, not even inside a failed query's parameters.
    const flowIds = new Set(outcomes.flatMap((outcome) => outcome.path.match(/^\/v1\/flows\/([^/]+)/)?.[1] ?? []));
    const logText = JSON.stringify(server.logs);
    expect([...flowIds].filter((id) => logText.includes(id))).toEqual([]);
    expect(server.logs.filter((line) => line.msg === "listening").length).toBe(1);
    expect(exit).toEqual({ code: 0, signal: null });
    console.info(
      `database restart: process ${pid} served ${outcomes.length} requests, ${upAt - downAt} while PostgreSQL was down ` +
        `or starting, ${failures.length} got 503, 0 got 500, ${completed()} events applied, ` +
        `${signedInAfterRecovery.size} clients signed in after the restart`,
    );
  });
});
