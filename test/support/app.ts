/**
 * Builds the real application on a fresh database with an injected clock, a counting
 * hasher and the development mailbox, and drives it through `app.request()`.
 */
import { desc, eq } from "drizzle-orm";
import type { Hono } from "hono";
import { devMailbox } from "../../db/schema.js";
import { loadConfig } from "../../src/config.js";
import { type AppEnv, createApp } from "../../src/http/app.js";
import { createLogger } from "../../src/logger.js";
import { type MailTransport, createResendTransport } from "../../src/mail/transport.js";
import { type Services, createServices } from "../../src/services.js";
import { TestClock } from "./clock.js";
import { type TestDatabase, createTestDatabase } from "./database.js";
import { type CountingHasher, createCountingHasher } from "./hasher.js";
import { RESEND_TEST_KEY, type ResendImitation } from "./resend-imitation.js";

export const PASSWORD = "correct horse battery staple";

export interface ApiResponse {
  status: number;
  // Response bodies are JSON of many shapes; tests read them as such.
  // biome-ignore lint/suspicious/noExplicitAny: see above
  body: any;
  headers: Headers;
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
}

export interface TestApp {
  /** The Hono application, for tests that serve it over a real socket. */
  app: Hono<AppEnv>;
  services: Services;
  database: TestDatabase;
  clock: TestClock;
  hasher: CountingHasher;
  /** The Resend imitation that mail goes to, when the app uses the Resend transport. */
  resend: ResendImitation | null;
  /** Captured log lines, parsed. */
  logs: Record<string, unknown>[];
  request(method: string, path: string, body?: unknown, options?: RequestOptions): Promise<ApiResponse>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /**
   * Environment of the app. The per-client limit is off unless `RATE_LIMIT_PER_MINUTE` is
   * set here, and the hash pool takes 1,000 hashes unless `HASH_QUEUE_LIMIT` is.
   */
  env?: Record<string, string>;
  /** Sends mail through the real Resend SDK to this imitation instead of the development mailbox. */
  resend?: ResendImitation;
  transport?: MailTransport;
  /** Called with each statement sent to the database. */
  onQuery?: (query: string) => void;
}

/** Creates the application on a fresh database. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase({ onQuery: options.onQuery });
  const clock = new TestClock();
  const hasher = createCountingHasher(Number(options.env?.HASH_QUEUE_LIMIT ?? 1_000));
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger("info", {
    write(line: string) {
      logs.push(JSON.parse(line));
    },
  });
  const resend = options.resend ?? null;
  const config = loadConfig({
    SECRET: "test-secret-test-secret-test-secret-0123",
    ...(resend ? { RESEND_API_KEY: RESEND_TEST_KEY } : {}),
    RATE_LIMIT_PER_MINUTE: "0",
    ...options.env,
  });
  const transport =
    options.transport ??
    (resend ? createResendTransport(RESEND_TEST_KEY, { baseUrl: resend.url, timeoutMs: 2_000 }) : undefined);
  const services = await createServices(config, database.db, logger, { now: clock.now, hasher, transport });
  const app = createApp(services);

  async function request(method: string, path: string, body?: unknown, requestOptions: RequestOptions = {}) {
    const headers: Record<string, string> = { ...requestOptions.headers };
    if (requestOptions.token) headers.authorization = `Bearer ${requestOptions.token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === "string" ? body : JSON.stringify(body);
      headers["content-type"] ??= "application/json";
    }
    const response = await app.request(path, { method, headers, body: payload });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {}
    return { status: response.status, body: parsed, headers: response.headers };
  }

  return {
    app,
    services,
    database,
    clock,
    hasher,
    resend,
    logs,
    request,
    async close() {
      await services.dispatcher.stop();
      await services.retention.stop();
      services.inspection?.close();
      await database.destroy();
    },
  };
}

/** Returns the newest code mailed to an address, from the Resend imitation or the development mailbox. */
export async function readCode(testApp: TestApp, email: string): Promise<string> {
  await testApp.services.dispatcher.kick();
  await testApp.services.dispatcher.idle();
  const address = email.toLowerCase();
  if (testApp.resend) {
    const mail = testApp.resend.delivered.filter((sent) => sent.to === address && sent.text?.includes("security code")).at(-1);
    const code = mail?.text?.match(/\b(\d{6})\b/)?.[1];
    if (!code) throw new Error(`No code was sent to ${email} through Resend.`);
    return code;
  }
  const [mail] = await testApp.services.db
    .select()
    .from(devMailbox)
    .where(eq(devMailbox.recipient, email.toLowerCase()))
    .orderBy(desc(devMailbox.sentAt))
    .limit(1);
  const code = mail?.text.match(/\b(\d{6})\b/)?.[1];
  if (!code) throw new Error(`No code was mailed to ${email}.`);
  return code;
}
