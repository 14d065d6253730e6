/**
 * The per-client limit and the bounded hash pool against a flood of sign-ins. A client that
 * sends many sign-ins or registrations at once must be stopped at the limit, exactly, and a
 * burst must end in answers of the API's table, never a 500 or an unbounded queue of hashes.
 */
import { inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flowJournal, rateLimitWindows } from "../../db/schema.js";
import { ERRORS } from "../../src/http/errors.js";
import { PASSWORD, type ApiResponse, type TestApp, createTestApp } from "../support/app.js";
import { SECOND } from "../support/clock.js";
import { uniqueEmail } from "../support/flows.js";

const LIMIT = 3;

function from(address: string) {
  return { headers: { "x-forwarded-for": address } };
}

function codesOf(responses: ApiResponse[]): string[] {
  return responses.map((response) => `${response.status} ${response.body?.error?.code ?? "ok"}`);
}

describe("per-client limit", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp({ env: { RATE_LIMIT_PER_MINUTE: String(LIMIT), TRUST_PROXY: "1" } });
  });
  afterAll(() => app.close());

  it("answers rate_limited past the limit until the minute ends", async () => {
    const responses: ApiResponse[] = [];
    for (let i = 0; i <= LIMIT; i += 1) {
      responses.push(await app.request("POST", "/v1/flows", { kind: "login" }, from("192.0.2.1")));
    }
    const other = await app.request("POST", "/v1/flows", { kind: "login" }, from("192.0.2.2"));

    expect(codesOf(responses)).toEqual(["201 ok", "201 ok", "201 ok", "429 rate_limited"]);
    const limited = responses.at(-1)!;
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(limited.body.error.retryAfter).toBe(60);
    expect(other.status).toBe(201);
    app.clock.advance(45 * SECOND);
    const later = await app.request("POST", "/v1/flows", { kind: "login" }, from("192.0.2.1"));
    expect(later.headers.get("retry-after")).toBe("15");
    app.clock.advance(15 * SECOND);
    const next = await app.request("POST", "/v1/flows", { kind: "login" }, from("192.0.2.1"));
    expect(next.status, JSON.stringify(next.body)).toBe(201);
  });

  it("counts SUBMIT_CREDENTIALS and registrations, not other events", async () => {
    const client = from("192.0.2.3");
    const email = uniqueEmail("limited");
    const registered = await app.request("POST", "/v1/users", { email, password: PASSWORD }, client);
    const flow = await app.request("POST", "/v1/flows", { kind: "login" }, client);
    const other = await app.request("POST", "/v1/flows", { kind: "login" }, from("192.0.2.4"));
    const credentials = { type: "SUBMIT_CREDENTIALS", email, password: "wrong password" };

    const third = await app.request("POST", `/v1/flows/${flow.body.id}/events`, credentials, client);
    const cancel = await app.request("POST", `/v1/flows/${other.body.id}/events`, { type: "CANCEL" }, client);
    const read = await app.request("GET", `/v1/flows/${flow.body.id}`, undefined, client);
    const fourth = await app.request("POST", `/v1/flows/${flow.body.id}/events`, credentials, client);

    expect(codesOf([registered, flow, third, cancel, read, fourth])).toEqual([
      "201 ok",
      "201 ok",
      "422 invalid_credentials",
      "200 ok",
      "200 ok",
      "429 rate_limited",
    ]);
    // A limited event spends nothing.
    expect(fourth.body.flow).toBeUndefined();
    const after = await app.request("GET", `/v1/flows/${flow.body.id}`, undefined, from("192.0.2.5"));
    expect(after.body.attemptsRemaining).toBe(4);
  });

  it("takes the last X-Forwarded-For entry as the client", async () => {
    const forged = (first: string) => ({ headers: { "x-forwarded-for": `${first}, 192.0.2.6` } });
    const responses: ApiResponse[] = [];
    for (let i = 0; i <= LIMIT; i += 1) {
      responses.push(await app.request("POST", "/v1/flows", { kind: "login" }, forged(`203.0.113.${i}`)));
    }

    expect(codesOf(responses).at(-1)).toBe("429 rate_limited");
  });

  it("ignores X-Forwarded-For without TRUST_PROXY", async () => {
    const { config } = app.services;
    config.trustProxy = false;
    try {
      const responses: ApiResponse[] = [];
      for (let i = 0; i <= LIMIT; i += 1) {
        responses.push(await app.request("POST", "/v1/flows", { kind: "login" }, from(`198.18.0.${i}`)));
      }
      expect(codesOf(responses).at(-1)).toBe("429 rate_limited");
    } finally {
      config.trustProxy = true;
    }
  });
});

describe("burst of 500 sign-ins", () => {
  const HASH_QUEUE_LIMIT = 8;
  const BURST_CLIENTS = 25;
  const PER_CLIENT = 20;
  const BURST_LIMIT = 10;
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp({
      env: { RATE_LIMIT_PER_MINUTE: String(BURST_LIMIT), TRUST_PROXY: "1", HASH_QUEUE_LIMIT: String(HASH_QUEUE_LIMIT) },
    });
  });
  afterAll(() => app.close());

  it("answers each request from the API's table and counts the limit exactly", async () => {
    const email = uniqueEmail("burst");
    await app.request("POST", "/v1/users", { email, password: PASSWORD }, from("10.9.0.1"));
    const total = BURST_CLIENTS * PER_CLIENT;
    // The flows come from other addresses, BURST_LIMIT each, so that they use up no burst client's limit.
    const flows = await Promise.all(
      Array.from({ length: total }, (_, i) =>
        app.request("POST", "/v1/flows", { kind: "login" }, from(`10.8.${Math.floor(i / BURST_LIMIT)}.1`)),
      ),
    );
    expect(codesOf(flows).every((code) => code === "201 ok"), JSON.stringify(codesOf(flows))).toBe(true);
    const flowIds = flows.map((flow) => flow.body.id as string);
    const verificationsBefore = app.hasher.verifications;

    const responses = await Promise.all(
      flowIds.map((flowId, i) =>
        app.request(
          "POST",
          `/v1/flows/${flowId}/events`,
          { type: "SUBMIT_CREDENTIALS", email, password: PASSWORD },
          from(`10.7.0.${i % BURST_CLIENTS}`),
        ),
      ),
    );

    const counts: Record<string, number> = {};
    for (const code of codesOf(responses)) counts[code] = (counts[code] ?? 0) + 1;
    expect(Object.keys(counts).sort(), JSON.stringify(counts)).toEqual(
      ["200 ok", "429 rate_limited", "503 service_unavailable"].filter((code) => counts[code] !== undefined),
    );
    for (const response of responses) {
      if (response.status === 200) continue;
      expect(ERRORS[response.body.error.code as keyof typeof ERRORS].status).toBe(response.status);
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    expect(counts["429 rate_limited"]).toBe(total - BURST_CLIENTS * BURST_LIMIT);
    const admitted = BURST_CLIENTS * BURST_LIMIT;
    expect((counts["200 ok"] ?? 0) + (counts["503 service_unavailable"] ?? 0)).toBe(admitted);
    // A limited request never reaches the hasher; an admitted one reaches it once.
    expect(app.hasher.verifications - verificationsBefore).toBe(admitted);

    const windows = await app.services.db
      .select()
      .from(rateLimitWindows)
      .where(inArray(rateLimitWindows.client, Array.from({ length: BURST_CLIENTS }, (_, i) => `10.7.0.${i}`)));
    expect(windows.map((window) => window.requests)).toEqual(Array(BURST_CLIENTS).fill(PER_CLIENT));
    // A request refused by the pool or the limit leaves its flow untouched.
    const untouched = flowIds.filter((_, i) => responses[i]!.status !== 200);
    const journal = await app.services.db.select().from(flowJournal).where(inArray(flowJournal.flowId, untouched));
    expect(journal.every((entry) => entry.eventType === "xstate.init")).toBe(true);
    console.info(`burst of ${total} sign-ins: ${JSON.stringify(counts)}`);
  }, 120_000);
});
