/**
 * SIGTERM stops a service process cleanly: a request in flight finishes and its mail is sent,
 * new connections are refused, the dispatcher and the database close, and the exit code is 0.
 */
import postgres from "postgres";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flows, mailOutbox } from "../../db/schema.js";
import { type TestDatabase, createTestDatabase } from "../support/database.js";
import { codeOf } from "../support/outbox.js";
import { PASSWORD } from "../support/app.js";
import { seedUsersWithMfa } from "../support/remote-login.js";
import { type ResendImitation, startResendImitation } from "../support/resend-imitation.js";
import {
  callService,
  processTestsSkipReason,
  startServerProcess,
  stopServerProcesses,
  waitFor,
} from "../support/server-process.js";

const SERVER_PORT = 4452;
const RESEND_PORT = 4453;

const skipReason = processTestsSkipReason("shutdown.drain.test.ts");

let resend: ResendImitation;
let database: TestDatabase;

describe.skipIf(skipReason !== null)("SIGTERM", () => {
  beforeAll(async () => {
    resend = await startResendImitation(RESEND_PORT);
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await stopServerProcesses();
    await resend?.close();
    await database?.destroy();
  });

  it("finishes requests and exits with 0", { timeout: 60_000 }, async () => {
    const [user] = await seedUsersWithMfa(database.db, 1, "drain");
    const server = await startServerProcess({ port: SERVER_PORT, databaseUrl: database.url!, resendUrl: resend.url });
    const created = await callService(server.url, "POST", "/v1/flows", { kind: "login" });
    const flowId = created.body.id as string;
    const credentials = await callService(server.url, "POST", `/v1/flows/${flowId}/events`, {
      type: "SUBMIT_CREDENTIALS",
      email: user!.email,
      password: PASSWORD,
    });
    expect(credentials.body.state, JSON.stringify(credentials.body)).toBe("awaitingCode");
    await waitFor(() => resend.delivered.length === 1, 10_000, "the code mail");
    const code = codeOf(resend.delivered[0]!.text);

    // Hold the flow's row lock, so that the next event waits inside the service.
    const blocker = postgres(database.url!, { max: 2, onnotice: () => {} });
    const locked = await blocker.reserve();
    await locked`begin`;
    await locked`select id from flows where id = ${flowId} for update`;
    const inFlight = callService(server.url, "POST", `/v1/flows/${flowId}/events`, {
      type: "SUBMIT_CODE",
      code,
      rememberDevice: true,
    });
    await waitFor(
      async () => (await blocker`select 1 from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`).length > 0,
      10_000,
      "the event to wait for the row lock",
    );

    server.child.kill("SIGTERM");
    await waitFor(() => server.logs.some((line) => line.msg === "stopping"), 10_000, "the service to stop listening");
    const refused = await callService(server.url, "GET", "/healthz").then(
      (response) => `answered ${response.status}`,
      (error: Error) => (error.cause as { code?: string } | undefined)?.code ?? error.message,
    );
    expect(server.child.exitCode).toBeNull();
    await locked`commit`;
    locked.release();
    await blocker.end();

    const finished = await inFlight;
    const exit = await server.exited;

    expect(refused).toBe("ECONNREFUSED");
    expect(finished.status, JSON.stringify(finished.body)).toBe(200);
    expect(finished.body.state).toBe("authenticated");
    expect(exit).toEqual({ code: 0, signal: null });
    const messages = server.logs.map((line) => line.msg);
    expect(messages.slice(messages.indexOf("signal received"))).toEqual(
      expect.arrayContaining(["stopping", "request", "mail sent", "stopped"]),
    );
    expect(messages.at(-1)).toBe("stopped");
    // The mail that the last event queued went out before the process closed its database.
    const [stored] = await database.db.select().from(flows).where(eq(flows.id, flowId));
    expect(stored?.state).toBe("authenticated");
    const mails = await database.db.select().from(mailOutbox).where(eq(mailOutbox.flowId, flowId));
    expect(mails.map((row) => [row.template, row.status]).sort()).toEqual([
      ["code", "sent"],
      ["device_trusted", "sent"],
    ]);
    expect(server.logs.filter((line) => (line.level as number) >= 50)).toEqual([]);
  });
});
