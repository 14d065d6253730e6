/**
 * A service process killed with SIGKILL in the middle of a load of sign-ins, then started
 * again: every flow goes on from its last committed state, every committed mail is sent
 * once, and no mail is sent for a state that was never committed.
 */
import { and, desc, eq, ne } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flowJournal, flows, mailOutbox, sessions } from "../../db/schema.js";
import { type TestDatabase, createTestDatabase } from "../support/database.js";
import { codeOf } from "../support/outbox.js";
import {
  type CodeReader,
  type Outcome,
  type SeededUser,
  seedUsersWithMfa,
  signInThroughFailures,
} from "../support/remote-login.js";
import { type ResendImitation, startResendImitation } from "../support/resend-imitation.js";
import {
  type ServerProcess,
  processTestsSkipReason,
  startServerProcess,
  stopServerProcesses,
  waitFor,
} from "../support/server-process.js";

const SERVER_PORT = 4450;
const RESEND_PORT = 4451;
const USERS = 30;
const FLOWS_PER_USER = 2;

const skipReason = processTestsSkipReason("crash.recovery.test.ts");

let resend: ResendImitation;
let database: TestDatabase;

/** Reads the newest code of a flow from the mails the Resend imitation accepted. */
function readCodeFromImitation(): CodeReader {
  return async (flowId) => {
    const [row] = await database.db
      .select({ id: mailOutbox.id })
      .from(mailOutbox)
      .where(and(eq(mailOutbox.flowId, flowId), eq(mailOutbox.template, "code"), ne(mailOutbox.status, "dropped")))
      .orderBy(desc(mailOutbox.createdAt))
      .limit(1);
    const mail = row && resend.delivered.find((candidate) => candidate.idempotencyKey === row.id);
    return mail ? codeOf(mail.text) : null;
  };
}

function startServer(): Promise<ServerProcess> {
  return startServerProcess({
    port: SERVER_PORT,
    databaseUrl: database.url!,
    resendUrl: resend.url,
    // A short timeout makes the lease short, so the restarted process takes over soon.
    env: { MAIL_TIMEOUT_SECONDS: "1" },
  });
}

describe.skipIf(skipReason !== null)("service killed with SIGKILL", () => {
  beforeAll(async () => {
    resend = await startResendImitation(RESEND_PORT);
    // Slow responses leave sends in flight when the process dies.
    resend.latencyMs = 300;
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await stopServerProcesses();
    await resend?.close();
    await database?.destroy();
  });

  it("resumes flows and sends mail once", { timeout: 180_000 }, async () => {
    const seeded = await seedUsersWithMfa(database.db, USERS, "crash");
    let server = await startServer();
    const outcomes: Outcome[] = [];
    const readCode = readCodeFromImitation();
    const deadline = Date.now() + 120_000;
    const signInEachRound = async (user: SeededUser) => {
      const results = [];
      for (let round = 0; round < FLOWS_PER_USER; round += 1) {
        results.push(await signInThroughFailures({ baseUrls: [`http://127.0.0.1:${SERVER_PORT}`], email: user.email, readCode, outcomes, deadline }));
      }
      return results;
    };
    const clients = Promise.all(seeded.map(signInEachRound));

    // Kill in the middle: once as many events and reads have succeeded as there are clients,
    // while Resend has a mail that the process will never hear about.
    await waitFor(
      () => outcomes.filter((outcome) => outcome.status === 200).length >= USERS && resend.inFlight > 0,
      60_000,
      "the load to start",
    );
    const killed = await server.stop("SIGKILL");
    expect(killed.signal).toBe("SIGKILL");
    const respondedBeforeKill = outcomes.length;
    server = await startServer();
    const results = (await clients).flat();
    await waitFor(
      async () => (await database.db.select().from(mailOutbox).where(eq(mailOutbox.status, "pending"))).length === 0,
      30_000,
      "the outbox to drain",
    );
    const stopped = await server.stop("SIGTERM");
    expect(stopped.code).toBe(0);

    // Every flow a client followed ended authenticated; only flows whose creation response was
    // lost in the crash stay where they were.
    expect(results.length).toBe(USERS * FLOWS_PER_USER);
    const storedFlows = await database.db.select().from(flows);
    const followed = new Set(results.map((result) => result.flowId));
    for (const flow of storedFlows) {
      expect(flow.state, flow.id).toBe(followed.has(flow.id) ? "authenticated" : "awaitingCredentials");
    }

    // The journal of each flow ends in the stored state, with no version missing.
    const journal = await database.db.select().from(flowJournal);
    for (const flow of storedFlows) {
      const entries = journal.filter((entry) => entry.flowId === flow.id).sort((a, b) => a.id - b.id);
      const versions = [...new Set(entries.map((entry) => entry.flowVersion))];
      expect(versions, flow.id).toEqual(Array.from({ length: flow.version }, (_, index) => index + 1));
      expect(entries.at(-1)?.state, flow.id).toBe(flow.state);
    }

    // Each committed mail reached Resend exactly once; each mail Resend got was committed.
    const outbox = await database.db.select().from(mailOutbox);
    expect(outbox.filter((row) => row.status !== "sent")).toEqual([]);
    expect(outbox.filter((row) => row.payload !== null)).toEqual([]);
    const outboxIds = new Set(outbox.map((row) => row.id));
    const deliveredKeys = resend.delivered.map((mail) => mail.idempotencyKey);
    expect(deliveredKeys.filter((key) => !outboxIds.has(key ?? ""))).toEqual([]);
    expect(new Set(deliveredKeys).size).toBe(deliveredKeys.length);
    expect(outbox.filter((row) => !deliveredKeys.includes(row.id)).map((row) => row.id)).toEqual([]);

    // One code mail for each committed code, and one session for each completed flow.
    for (const flow of storedFlows) {
      const issued = journal.filter(
        (entry) => entry.flowId === flow.id && entry.eventType === "SUBMIT_CREDENTIALS" && entry.state === "awaitingCode",
      );
      const mails = outbox.filter((row) => row.flowId === flow.id && row.template === "code");
      expect(mails.length, flow.id).toBe(issued.length);
    }
    const storedSessions = await database.db.select().from(sessions);
    expect(storedSessions.length).toBe(USERS * FLOWS_PER_USER);

    const networkFailures = outcomes.filter((outcome) => outcome.status === null).length;
    const resentAfterCrash = outbox.filter((row) => resend.requestsFor(row.id) > 1).length;
    expect(networkFailures).toBeGreaterThan(0);
    expect(resentAfterCrash).toBeGreaterThan(0);
    expect(outcomes.filter((outcome) => outcome.status !== null && outcome.status >= 500)).toEqual([]);
    console.info(
      `crash: ${storedFlows.length} flows, ${outcomes.length} requests (${respondedBeforeKill} before the kill, ` +
        `${networkFailures} failed on the network), ${outbox.length} mails committed, ` +
        `${resend.delivered.length} delivered, ${resend.requests.length} provider requests, ` +
        `${resentAfterCrash} resent with the same key, 0 lost`,
    );
  });
});
