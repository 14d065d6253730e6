/**
 * Parallel events on one flow sent through two server processes on one PostgreSQL database.
 * A client that fires many guesses or many copies of one code at once must not get more
 * attempts, more sessions or more live codes than one request after another would give.
 *
 * Runs on PostgreSQL only: PGlite is embedded in one process and cannot be shared.
 */
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flowJournal, flows, mailOutbox, rateLimitWindows, sessions, users } from "../../db/schema.js";
import { PASSWORD } from "../support/app.js";
import { type TestDatabase, createTestDatabase, onPostgres } from "../support/database.js";
import {
  type HttpResponse,
  type ServerProcess,
  findFreePort,
  httpRequest,
  startServerProcess,
  waitFor,
} from "../support/processes.js";
import { RESEND_TEST_KEY, type ResendImitation, startResendImitation } from "../support/resend-imitation.js";

const RATE_LIMIT = 10;
const describeOnPostgres = describe.skipIf(!onPostgres);
if (!onPostgres) {
  console.info("flows.multi-process.test.ts: skipped, it needs PostgreSQL (set DATABASE_URL).");
}

let database: TestDatabase;
let resend: ResendImitation;
let servers: ServerProcess[] = [];
let clientCounter = 0;

beforeAll(async () => {
  if (!onPostgres) return;
  database = await createTestDatabase();
  resend = await startResendImitation(await findFreePort());
  const env = {
    DATABASE_URL: database.url!,
    SECRET: "multi-process-secret-0123456789abcdef",
    RESEND_API_KEY: RESEND_TEST_KEY,
    RESEND_BASE_URL: resend.url,
    RESEND_COOLDOWN_SECONDS: "0",
    PASSWORD_HASH: "cheap",
    RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
    TRUST_PROXY: "1",
    DATABASE_POOL_SIZE: "8",
  };
  servers = await Promise.all([startServerProcess(env), startServerProcess(env)]);
}, 90_000);

afterAll(async () => {
  if (!onPostgres) return;
  await Promise.all(servers.map((server) => server.stop()));
  await resend?.close();
  await database?.destroy();
});

/**
 * Creates a client with an address of its own, so that the per-client limit of one test does
 * not reach another. Its requests alternate between the two processes.
 */
function newClient() {
  clientCounter += 1;
  const address = `198.51.100.${clientCounter}`;
  let turn = 0;
  return {
    address,
    send(method: string, path: string, body?: unknown, token?: string, server?: number): Promise<HttpResponse> {
      const target = servers[server ?? turn++ % servers.length]!;
      const headers: Record<string, string> = { "x-forwarded-for": address };
      if (token) headers.authorization = `Bearer ${token}`;
      return httpRequest(`${target.url}${path}`, method, body, headers);
    },
  };
}
type Client = ReturnType<typeof newClient>;

function expectStatus(response: HttpResponse, status: number): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
}

/** Waits for the newest code mailed to an address after `seen` earlier mails, and returns it. */
async function nextCode(email: string, seen: number): Promise<string> {
  const mail = await waitFor(
    () => resend.delivered.filter((sent) => sent.to === email && sent.text?.includes("security code"))[seen],
    () => `a code mail to ${email} after ${seen}`,
  );
  return mail.text!.match(/\b(\d{6})\b/)![1]!;
}

function codeMailsTo(email: string): number {
  return resend.delivered.filter((sent) => sent.to === email && sent.text?.includes("security code")).length;
}

/** Registers a user and turns MFA on through the processes; returns the address. */
async function registerWithMfa(client: Client, name: string): Promise<string> {
  const email = `${name}.${process.pid}@example.com`;
  expectStatus(await client.send("POST", "/v1/users", { email, password: PASSWORD }), 201);
  const login = await client.send("POST", "/v1/flows", { kind: "login" });
  const signedIn = await client.send("POST", `/v1/flows/${login.body.id}/events`, {
    type: "SUBMIT_CREDENTIALS",
    email,
    password: PASSWORD,
  });
  expectStatus(signedIn, 200);
  const token = signedIn.body.output.sessionToken as string;
  const enrollment = await client.send("POST", "/v1/flows", { kind: "enrollment" }, token);
  const seen = codeMailsTo(email);
  const password = await client.send(
    "POST",
    `/v1/flows/${enrollment.body.id}/events`,
    { type: "SUBMIT_PASSWORD", password: PASSWORD },
    token,
  );
  expectStatus(password, 200);
  const code = await nextCode(email, seen);
  const enabled = await client.send("POST", `/v1/flows/${enrollment.body.id}/events`, { type: "SUBMIT_CODE", code }, token);
  expectStatus(enabled, 200);
  return email;
}

/** Starts a login flow up to the code; returns the flow id and the mailed code. */
async function loginUpToCode(client: Client, email: string): Promise<{ flowId: string; code: string }> {
  const flow = await client.send("POST", "/v1/flows", { kind: "login" });
  expectStatus(flow, 201);
  const seen = codeMailsTo(email);
  const credentials = await client.send("POST", `/v1/flows/${flow.body.id}/events`, {
    type: "SUBMIT_CREDENTIALS",
    email,
    password: PASSWORD,
  });
  expect(credentials.body.state, JSON.stringify(credentials.body)).toBe("awaitingCode");
  return { flowId: flow.body.id, code: await nextCode(email, seen) };
}

async function storedFlow(flowId: string) {
  const [row] = await database.db.select().from(flows).where(eq(flows.id, flowId));
  return row!;
}

async function journalOf(flowId: string) {
  return database.db.select().from(flowJournal).where(eq(flowJournal.flowId, flowId)).orderBy(flowJournal.id);
}

function tally(responses: HttpResponse[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const response of responses) {
    const key = `${response.status} ${response.body?.error?.code ?? response.body?.state}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describeOnPostgres("one login flow, two processes", () => {
  it("evaluates exactly 5 of 50 parallel wrong codes", async () => {
    const client = newClient();
    const email = await registerWithMfa(client, "wrong-codes");
    const { flowId, code } = await loginUpToCode(client, email);
    const wrong = code === "000000" ? "111111" : "000000";

    const responses = await Promise.all(
      Array.from({ length: 50 }, () => client.send("POST", `/v1/flows/${flowId}/events`, { type: "SUBMIT_CODE", code: wrong })),
    );

    const counts = tally(responses);
    expect(counts, JSON.stringify(counts)).toEqual({
      "422 invalid_code": 4,
      "423 too_many_attempts": 1,
      "409 flow_finished": 45,
    });
    const row = await storedFlow(flowId);
    expect(row.state).toBe("locked");
    expect((row.snapshot as { context: { wrongSubmissions: number } }).context.wrongSubmissions).toBe(5);
    const evaluated = (await journalOf(flowId)).filter((entry) => entry.eventType === "SUBMIT_CODE");
    expect(evaluated.length).toBe(5);

    const right = await client.send("POST", `/v1/flows/${flowId}/events`, { type: "SUBMIT_CODE", code });
    expectStatus(right, 409);
    expect(right.body.error.code).toBe("flow_finished");
    // The password was right, so the owner is mailed that the flow was locked.
    await waitFor(
      () => resend.delivered.find((sent) => sent.to === email && sent.subject === "A sign-in with your password was stopped"),
      () => `the lock notice to ${email}`,
    );
  });

  it("issues exactly one session for 20 parallel right codes", async () => {
    const client = newClient();
    const email = await registerWithMfa(client, "right-codes");
    const [user] = await database.db.select().from(users).where(eq(users.email, email));
    const { flowId, code } = await loginUpToCode(client, email);
    const before = await database.db.select().from(sessions).where(eq(sessions.userId, user!.id));

    const responses = await Promise.all(
      Array.from({ length: 20 }, () => client.send("POST", `/v1/flows/${flowId}/events`, { type: "SUBMIT_CODE", code })),
    );

    const issued = responses.filter((response) => response.status === 200);
    expect(issued.length, JSON.stringify(tally(responses))).toBe(1);
    expect(issued[0]!.body.output.sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const response of responses.filter((candidate) => candidate.status !== 200)) {
      expectStatus(response, 409);
      expect(["flow_finished", "conflict"]).toContain(response.body.error.code);
    }
    const after = await database.db.select().from(sessions).where(eq(sessions.userId, user!.id));
    expect(after.length - before.length).toBe(1);
    const evaluated = (await journalOf(flowId)).filter((entry) => entry.eventType === "SUBMIT_CODE");
    expect(evaluated.map((entry) => entry.outcome)).toEqual(["ok"]);
  });

  it("keeps one live code after two parallel resends", async () => {
    const client = newClient();
    const email = await registerWithMfa(client, "resends");
    const { flowId } = await loginUpToCode(client, email);
    // The first code mail to reach the provider is kept back, so that a voided code sent
    // before the live one would arrive after it.
    resend.lateMs = 1_000;
    resend.script("arrive_late");

    const responses = await Promise.all([0, 1].map((server) => client.send("POST", `/v1/flows/${flowId}/events`, { type: "RESEND_CODE" }, undefined, server)));

    for (const response of responses) expectStatus(response, 200);
    const row = await storedFlow(flowId);
    expect((row.snapshot as { context: { codesSent: number } }).context.codesSent).toBe(3);
    // Wait until no code mail of the flow is left to send.
    const outbox = await waitFor(
      async () => {
        const rows = await database.db
          .select()
          .from(mailOutbox)
          .where(and(eq(mailOutbox.flowId, flowId), eq(mailOutbox.template, "code")));
        return rows.every((candidate) => candidate.status !== "pending" && candidate.leaseUntil === null) ? rows : undefined;
      },
      () => `the code mails of flow ${flowId.slice(0, 8)} to be sent or dropped`,
    );
    const keys = new Set(outbox.map((candidate) => candidate.id));
    const arrived = resend.delivered.filter((sent) => sent.idempotencyKey && keys.has(sent.idempotencyKey));
    const codes = arrived.map((sent) => sent.text!.match(/\b(\d{6})\b/)![1]!);
    const last = codes.at(-1)!;

    for (const voided of codes.slice(0, -1).filter((candidate) => candidate !== last)) {
      const rejected = await client.send("POST", `/v1/flows/${flowId}/events`, { type: "SUBMIT_CODE", code: voided });
      expect(rejected.body.error?.code, JSON.stringify({ codes, body: rejected.body })).toBe("invalid_code");
    }
    const done = await client.send("POST", `/v1/flows/${flowId}/events`, { type: "SUBMIT_CODE", code: last });
    expect(done.body.state, JSON.stringify({ codes, body: done.body })).toBe("authenticated");
  });

  it("shares the per-client limit between the processes", async () => {
    const client = newClient();
    // The burst must fall in one minute window of the processes' clocks.
    if (Date.now() % 60_000 > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - (Date.now() % 60_000)));

    const responses = await Promise.all(Array.from({ length: 30 }, () => client.send("POST", "/v1/flows", { kind: "login" })));

    const counts = tally(responses);
    expect(counts["201 awaitingCredentials"], JSON.stringify(counts)).toBe(RATE_LIMIT);
    expect(counts["429 rate_limited"], JSON.stringify(counts)).toBe(30 - RATE_LIMIT);
    for (const response of responses.filter((candidate) => candidate.status === 429)) {
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    const windows = await database.db.select().from(rateLimitWindows).where(eq(rateLimitWindows.client, client.address));
    expect(windows.map((window) => window.requests)).toEqual([30]);
  });
});
