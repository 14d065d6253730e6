/** Steps that many tests take: registering, signing in, turning MFA on. */
import { expect } from "vitest";
import { PASSWORD, type TestApp, readCode } from "./app.js";

let counter = 0;

/** Returns an address no other test in this file uses. */
export function uniqueEmail(prefix = "user"): string {
  counter += 1;
  return `${prefix}${counter}.${process.pid}@example.com`;
}

export async function register(app: TestApp, email = uniqueEmail()): Promise<{ id: string; email: string }> {
  const response = await app.request("POST", "/v1/users", { email, password: PASSWORD });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return { id: response.body.id, email };
}

export async function createFlow(app: TestApp, kind: string, token?: string) {
  const response = await app.request("POST", "/v1/flows", { kind }, { token });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as { id: string; state: string };
}

export function sendEvent(app: TestApp, flowId: string, event: Record<string, unknown>, token?: string) {
  return app.request("POST", `/v1/flows/${flowId}/events`, event, { token });
}

/** Starts a login and submits the credentials; returns the flow id and the response. */
export async function submitCredentials(app: TestApp, email: string, extra: Record<string, unknown> = {}) {
  const flow = await createFlow(app, "login");
  const response = await sendEvent(app, flow.id, {
    type: "SUBMIT_CREDENTIALS",
    email,
    password: PASSWORD,
    ...extra,
  });
  return { flowId: flow.id, response };
}

/** Signs in completely, entering the mailed code when one is asked for. */
export async function signIn(app: TestApp, email: string, rememberDevice = false) {
  const { flowId, response } = await submitCredentials(app, email);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  if (response.body.state === "authenticated") return response.body.output as Record<string, string>;
  const code = await readCode(app, email);
  const done = await sendEvent(app, flowId, { type: "SUBMIT_CODE", code, rememberDevice });
  expect(done.status, JSON.stringify(done.body)).toBe(200);
  return done.body.output as Record<string, string>;
}

/** Turns MFA on for a signed-in user through an enrollment flow. */
export async function enableMfa(app: TestApp, email: string, token: string): Promise<void> {
  const flow = await createFlow(app, "enrollment", token);
  const password = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, token);
  expect(password.status, JSON.stringify(password.body)).toBe(200);
  const code = await readCode(app, email);
  const done = await sendEvent(app, flow.id, { type: "SUBMIT_CODE", code }, token);
  expect(done.body.state, JSON.stringify(done.body)).toBe("enabled");
}

/** Registers a user with MFA on; returns the user and a session token that signed in with a code. */
export async function registerWithMfa(app: TestApp, email = uniqueEmail()) {
  const user = await register(app, email);
  const first = await signIn(app, email);
  await enableMfa(app, email, first.sessionToken!);
  const output = await signIn(app, email);
  return { ...user, token: output.sessionToken! };
}
