/**
 * Live inspection of a login with a code, through a real relay on 127.0.0.1 to a WebSocket
 * client in place of the inspector. What the relay forwards ends up in a page of
 * stately.ai, so no code, code HMAC, password or token may be in it, nor a full login flow id.
 * Only committed events are reported, in the order they were applied.
 */
import { get as httpGet } from "node:http";
import { eq } from "drizzle-orm";
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flowJournal } from "../../db/schema.js";
import { hashCode } from "../../src/crypto.js";
import { type InspectionRelay, startInspectionRelay } from "../../src/inspection/relay.js";
import { REDACTED } from "../../src/inspection/sanitize.js";
import { createLogger } from "../../src/logger.js";
import { PASSWORD, type TestApp, createTestApp, readCode } from "../support/app.js";
import { createFlow, register, sendEvent, signIn, uniqueEmail } from "../support/flows.js";
import { waitFor } from "../support/processes.js";

interface InspectionMessage {
  type: string;
  sessionId: string;
  name?: string;
  definition?: string;
  event?: Record<string, unknown>;
  snapshot?: { status?: string; value?: unknown; context?: Record<string, unknown> };
}

let relay: InspectionRelay;
let app: TestApp;
let viewer: WebSocket;
const messages: InspectionMessage[] = [];
const rawMessages: string[] = [];
/** Makes the next journal insert fail, so that its transaction rolls back. */
let failNextJournalInsert = false;

beforeAll(async () => {
  relay = await startInspectionRelay({ port: 0, logger: createLogger("silent") });
  app = await createTestApp({
    env: { INSPECT: String(relay.address.port) },
    onQuery: (query) => {
      if (failNextJournalInsert && query.startsWith('insert into "flow_journal"')) {
        failNextJournalInsert = false;
        throw new Error("journal insert failed on purpose");
      }
    },
  });
  viewer = new WebSocket(relay.url);
  viewer.on("message", (data) => {
    rawMessages.push(data.toString());
    messages.push(JSON.parse(data.toString()));
  });
  await new Promise((resolve, reject) => {
    viewer.once("open", resolve);
    viewer.once("error", reject);
  });
});
afterAll(async () => {
  viewer?.terminate();
  await app?.close();
  await relay?.close();
});

/** Matches a value as a whole word, so that a code is not found inside a longer number. */
function wholeWord(value: string): RegExp {
  return new RegExp(`(?<![0-9A-Za-z_-])${value}(?![0-9A-Za-z_-])`);
}

function messagesOf(sessionId: string): InspectionMessage[] {
  return messages.filter((message) => message.sessionId === sessionId);
}

function summarize(message: InspectionMessage): string {
  if (message.type === "@xstate.event") return `event ${message.event?.type}`;
  return `${message.type === "@xstate.actor" ? "actor" : "snapshot"} ${String(message.snapshot?.value)}`;
}

describe("live inspection of a login with a code", () => {
  const secrets = { codes: [] as string[], hashes: [] as string[], tokens: [] as string[] };
  let email: string;
  let flowId: string;
  let sessionId: string;

  beforeAll(async () => {
    email = uniqueEmail("inspected");
    await register(app, email);
    const { sessionToken } = await signIn(app, email);
    secrets.tokens.push(sessionToken!);
    const enrollment = await createFlow(app, "enrollment", sessionToken);
    await sendEvent(app, enrollment.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, sessionToken);
    const enrollmentCode = await readCode(app, email);
    secrets.codes.push(enrollmentCode);
    secrets.hashes.push(hashCode(app.services.keys.codeKey, enrollment.id, enrollmentCode));
    const enabled = await sendEvent(app, enrollment.id, { type: "SUBMIT_CODE", code: enrollmentCode }, sessionToken);
    expect(enabled.body.state, JSON.stringify(enabled.body)).toBe("enabled");

    const flow = await createFlow(app, "login");
    flowId = flow.id;
    sessionId = flowId.slice(0, 8);
    const credentials = await sendEvent(app, flowId, { type: "SUBMIT_CREDENTIALS", email, password: PASSWORD });
    expect(credentials.body.state, JSON.stringify(credentials.body)).toBe("awaitingCode");
    const code = await readCode(app, email);
    const wrongCode = code === "000000" ? "111111" : "000000";
    secrets.codes.push(code, wrongCode);
    secrets.hashes.push(hashCode(app.services.keys.codeKey, flowId, code));

    const wrong = await sendEvent(app, flowId, { type: "SUBMIT_CODE", code: wrongCode });
    expect(wrong.body.error?.code, JSON.stringify(wrong.body)).toBe("invalid_code");
    failNextJournalInsert = true;
    const failed = await sendEvent(app, flowId, { type: "SUBMIT_CODE", code, rememberDevice: true });
    expect(failed.status, JSON.stringify(failed.body)).toBe(500);
    const done = await sendEvent(app, flowId, { type: "SUBMIT_CODE", code, rememberDevice: true });
    expect(done.body.state, JSON.stringify(done.body)).toBe("authenticated");
    secrets.tokens.push(done.body.output.sessionToken, done.body.output.deviceToken);

    await waitFor(
      () => (messagesOf(sessionId).some((message) => message.snapshot?.value === "authenticated") ? true : undefined),
      () => `the snapshot "authenticated" of ${sessionId}; received: ${messagesOf(sessionId).map(summarize).join(", ")}`,
      10_000,
    );
  });

  it("arrives in order", () => {
    expect(messagesOf(sessionId).map(summarize)).toEqual([
      "actor awaitingCredentials",
      "event SUBMIT_CREDENTIALS",
      "snapshot awaitingCode",
      "event SUBMIT_CODE",
      "snapshot awaitingCode",
      "event SUBMIT_CODE",
      "snapshot authenticated",
    ]);
  });

  it("reports only committed events", async () => {
    const journal = await app.services.db.select().from(flowJournal).where(eq(flowJournal.flowId, flowId));
    const reported = messagesOf(sessionId).filter((message) => message.type === "@xstate.event");

    expect(journal.map((entry) => entry.eventType)).toEqual([
      "xstate.init",
      "SUBMIT_CREDENTIALS",
      "SUBMIT_CODE",
      "SUBMIT_CODE",
    ]);
    expect(reported).toHaveLength(journal.length - 1);
  });

  it("registers the actor with the machine definition", () => {
    const [actor] = messagesOf(sessionId);
    const definition = JSON.parse(actor?.definition ?? "null");

    expect(actor?.name).toBe("login");
    expect(definition.id).toBe("login");
    expect(Object.keys(definition.states)).toContain("awaitingCode");
  });

  it("sends the facts that the machine saw", () => {
    const events = messagesOf(sessionId)
      .filter((message) => message.type === "@xstate.event")
      .map((message) => message.event);

    expect(events[0]).toMatchObject({
      type: "SUBMIT_CREDENTIALS",
      passwordValid: true,
      codeRequired: true,
      newCode: REDACTED,
    });
    expect(events[1]).toMatchObject({ type: "SUBMIT_CODE", codeMatches: false });
    expect(events[2]).toMatchObject({ type: "SUBMIT_CODE", codeMatches: true, rememberDevice: true });
    for (const event of events) {
      expect(Object.keys(event ?? {})).not.toContain("password");
      expect(Object.keys(event ?? {})).not.toContain("email");
      expect(Object.keys(event ?? {})).not.toContain("code");
      expect(Object.keys(event ?? {})).not.toContain("deviceToken");
    }
  });

  it("sends the allow-listed context", () => {
    const awaitingCode = messagesOf(sessionId).find((message) => message.snapshot?.value === "awaitingCode");
    const context = awaitingCode?.snapshot?.context;

    expect(context?.codeHash).toBe(REDACTED);
    expect(context?.sentTo).toMatch(/^i\*\*\*@example\.com$/);
    expect(context?.codesSent).toBe(1);
  });

  it("contains no secret", () => {
    expect(rawMessages.length).toBeGreaterThan(10);
    expect(secrets.codes).toHaveLength(3);
    expect(secrets.hashes).toHaveLength(2);
    expect(secrets.tokens).toHaveLength(3);
    for (const message of rawMessages) {
      expect(message).not.toContain(PASSWORD);
      expect(message).not.toContain(email);
      expect(message).not.toContain(flowId);
      for (const code of secrets.codes) expect(message).not.toMatch(wholeWord(code));
      for (const hash of secrets.hashes) expect(message).not.toContain(hash);
      for (const token of secrets.tokens) expect(message).not.toContain(token);
    }
  });
});

describe("relay", () => {
  it("binds to 127.0.0.1 only", () => {
    expect(relay.address.address).toBe("127.0.0.1");
    expect(relay.address.family).toBe("IPv4");
    expect(relay.url).toBe(`ws://127.0.0.1:${relay.address.port}`);
  });

  it("rejects WebSockets from other sites", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(relay.url, { origin: "https://attacker.example" });
      socket.once("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
      socket.once("open", () => reject(new Error("the relay accepted a WebSocket from another site")));
      socket.once("error", () => {});
    });
    expect(status).toBe(401);
  });

  it("accepts the Stately inspector's origin", async () => {
    const socket = new WebSocket(relay.url, { origin: "https://stately.ai" });
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    socket.terminate();
  });

  it("serves its page under a strict policy", async () => {
    const response = await fetch(relay.pageUrl);
    const page = await response.text();
    const policy = response.headers.get("content-security-policy") ?? "";

    expect(response.status).toBe(200);
    expect(page).toContain('<iframe id="inspector"');
    expect(page).toContain('src="https://stately.ai/inspect"');
    expect(page).toContain('<script src="/relay-bridge.js"></script>');
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-src https://stately.ai");
    expect(policy).not.toContain("unsafe-inline");
  });

  it("rejects another site's host name", async () => {
    // fetch() sets Host itself, so the request goes through node:http.
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpGet(relay.pageUrl, { headers: { host: "attacker.example" } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.once("error", reject);
    });
    expect(status).toBe(421);
  });
});
