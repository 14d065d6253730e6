/**
 * The newcomer's whole journey over a real socket: register, sign in, turn MFA on, sign out,
 * sign in with a code and remember the device, sign in on it without a code, turn MFA off.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { type RunningService, startService } from "../../src/server.js";
import { type TestDatabase, createTestDatabase } from "../support/database.js";

const EMAIL = "ada@example.com";
const PASSWORD = "correct horse battery";

let database: TestDatabase;
let service: RunningService;
const logLines: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const config = loadConfig({ PORT: "0", LOG_LEVEL: "info", PASSWORD_HASH: "cheap" });
  const logger = createLogger("info", { write: (line: string) => void logLines.push(line) });
  service = await startService(config, logger, { database });
});
afterAll(async () => {
  await service.stop();
  await database.destroy().catch(() => {});
});

async function call(method: string, path: string, body?: unknown, token?: string) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function newestCode(): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const mailbox = await call("GET", `/v1/dev/mailbox?to=${EMAIL}`);
    const code = mailbox.body.messages[0]?.text.match(/\b(\d{6})\b/)?.[1];
    if (code && !used.has(code)) {
      used.add(code);
      return code;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("No new code arrived in the development mailbox.");
}
const used = new Set<string>();

async function event(flowId: string, body: unknown, token?: string) {
  const response = await call("POST", `/v1/flows/${flowId}/events`, body, token);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

async function login(extra: Record<string, unknown> = {}) {
  const flow = await call("POST", "/v1/flows", { kind: "login" });
  return event(flow.body.id, { type: "SUBMIT_CREDENTIALS", email: EMAIL, password: PASSWORD, ...extra });
}

describe("newcomer journey", () => {
  it("works end to end", async () => {
    expect((await call("GET", "/healthz")).body).toEqual({ status: "ok" });
    expect((await call("POST", "/v1/users", { email: EMAIL, password: PASSWORD })).status).toBe(201);

    let flow = await login();
    expect(flow.state).toBe("authenticated");
    let token = flow.output.sessionToken;

    const enrollment = await call("POST", "/v1/flows", { kind: "enrollment" }, token);
    expect((await event(enrollment.body.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, token)).state).toBe("awaitingCode");
    expect((await event(enrollment.body.id, { type: "SUBMIT_CODE", code: await newestCode() }, token)).state).toBe("enabled");
    expect((await call("GET", "/v1/me", undefined, token)).body.mfaEnabled).toBe(true);
    expect((await call("POST", "/v1/logout", undefined, token)).status).toBe(204);

    flow = await login();
    expect(flow.state).toBe("awaitingCode");
    flow = await event(flow.id, { type: "SUBMIT_CODE", code: await newestCode(), rememberDevice: true });
    expect(flow.state).toBe("authenticated");
    const deviceToken = flow.output.deviceToken;
    expect(deviceToken).toBeDefined();

    flow = await login({ deviceToken });
    expect(flow.state).toBe("authenticated");
    token = flow.output.sessionToken;

    const disablement = await call("POST", "/v1/flows", { kind: "disablement" }, token);
    expect((await event(disablement.body.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, token)).state).toBe("awaitingCode");
    expect((await event(disablement.body.id, { type: "SUBMIT_CODE", code: await newestCode() }, token)).state).toBe("disabled");
    expect((await call("GET", "/v1/me", undefined, token)).body.mfaEnabled).toBe(false);

    const logs = logLines.join("\n");
    expect(logs).not.toContain(PASSWORD);
    expect(logs).not.toContain(deviceToken);
    expect(logs).not.toContain(token);
    for (const code of used) expect(logs).not.toMatch(new RegExp(`\\b${code}\\b`));
  });
});
