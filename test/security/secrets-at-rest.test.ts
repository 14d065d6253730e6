/**
 * Secrets at rest and in logs. Someone who reads a database backup or the log stream must find
 * no code, password or token in clear that would let them sign in or finish a flow. Nor may the
 * logs hold the full id of a login flow, because that id is its client's credential.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, type TestApp, createTestApp, readCode } from "../support/app.js";
import { SECOND } from "../support/clock.js";
import { dumpTables } from "../support/dump.js";
import { createFlow, register, sendEvent, signIn, submitCredentials } from "../support/flows.js";
import { findFreePort } from "../support/processes.js";
import { type ResendImitation, startResendImitation } from "../support/resend-imitation.js";

const WRONG_PASSWORD = "wrong-password-Xq7";

let resend: ResendImitation;
let app: TestApp;
const used = { codes: new Set<string>(), passwords: new Set<string>([PASSWORD, WRONG_PASSWORD]), tokens: new Set<string>() };
const loginFlowIds: string[] = [];

beforeAll(async () => {
  resend = await startResendImitation(await findFreePort());
  app = await createTestApp({ resend });
});
afterAll(async () => {
  await app.close();
  await resend.close();
});

/** Matches a code as a whole word only, so that it is not found inside a longer number or id. */
function wholeWord(value: string): RegExp {
  return new RegExp(`(?<![0-9A-Za-z])${value}(?![0-9A-Za-z])`);
}

async function code(email: string): Promise<string> {
  const value = await readCode(app, email);
  used.codes.add(value);
  return value;
}

function token(value: string | undefined): string {
  expect(value).toBeTruthy();
  used.tokens.add(value!);
  return value!;
}

async function login(email: string, extra: Record<string, unknown> = {}) {
  const result = await submitCredentials(app, email, extra);
  loginFlowIds.push(result.flowId);
  return result;
}

/** Runs every flow once: the sign-ins, enrollment, disablement, resends and wrong input. */
async function runEveryFlow(): Promise<void> {
  const user = await register(app);
  // Login without a code.
  const plain = await login(user.email);
  const firstSession = token(plain.response.body.output.sessionToken);
  // Enrollment.
  const enrollment = await createFlow(app, "enrollment", firstSession);
  await sendEvent(app, enrollment.id, { type: "SUBMIT_PASSWORD", password: WRONG_PASSWORD }, firstSession);
  await sendEvent(app, enrollment.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, firstSession);
  const enabled = await sendEvent(app, enrollment.id, { type: "SUBMIT_CODE", code: await code(user.email) }, firstSession);
  expect(enabled.body.state, JSON.stringify(enabled.body)).toBe("enabled");
  // Login with a code, a wrong code first, and the device remembered.
  const withCode = await login(user.email);
  const sent = await code(user.email);
  await sendEvent(app, withCode.flowId, { type: "SUBMIT_CODE", code: sent === "000000" ? "000001" : "000000" });
  const remembered = await sendEvent(app, withCode.flowId, { type: "SUBMIT_CODE", code: sent, rememberDevice: true });
  token(remembered.body.output.sessionToken);
  const deviceToken = token(remembered.body.output.deviceToken);
  // Login with a resent code.
  const resent = await login(user.email);
  await code(user.email);
  app.clock.advance(60 * SECOND);
  await sendEvent(app, resent.flowId, { type: "RESEND_CODE" });
  const afterResend = await sendEvent(app, resent.flowId, { type: "SUBMIT_CODE", code: await code(user.email) });
  token(afterResend.body.output.sessionToken);
  // Login on the remembered device, then disablement, which requires a fresh code.
  const trusted = await login(user.email, { deviceToken });
  expect(trusted.response.body.state).toBe("authenticated");
  const trustedSession = token(trusted.response.body.output.sessionToken);
  const disablement = await createFlow(app, "disablement", trustedSession);
  await sendEvent(app, disablement.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, trustedSession);
  const disabled = await sendEvent(app, disablement.id, { type: "SUBMIT_CODE", code: await code(user.email) }, trustedSession);
  expect(disabled.body.state, JSON.stringify(disabled.body)).toBe("disabled");
  // Wrong credentials, and a sign-in after all that.
  await login(user.email.toUpperCase(), { password: WRONG_PASSWORD });
  const last = await signIn(app, user.email);
  token(last.sessionToken);
  await app.services.dispatcher.idle();
}

describe("secrets at rest and in logs", () => {
  it("leave no code, password or token in the database or the logs", async () => {
    await runEveryFlow();
    const database = JSON.stringify(await dumpTables(app.services.db));
    const logs = app.logs.map((line) => JSON.stringify(line)).join("\n");
    const mails = resend.delivered.map((mail) => `${mail.text}\n${mail.html}`).join("\n");

    expect(used.codes.size).toBeGreaterThanOrEqual(5);
    expect(used.tokens.size).toBeGreaterThanOrEqual(6);
    for (const value of used.codes) {
      // The matcher finds each code where it belongs: in the mail.
      expect(mails).toMatch(wholeWord(value));
      expect(database, `code ${value} in the database`).not.toMatch(wholeWord(value));
      expect(logs, `code ${value} in the logs`).not.toMatch(wholeWord(value));
    }
    for (const value of [...used.passwords, ...used.tokens]) {
      expect(database.includes(value), `${value} in the database`).toBe(false);
      expect(logs.includes(value), `${value} in the logs`).toBe(false);
    }
    for (const id of loginFlowIds) {
      expect(logs.includes(id), `login flow id ${id} in the logs`).toBe(false);
      expect(logs.includes(id.slice(0, 8)), `the first 8 characters of ${id} in the logs`).toBe(true);
    }
  });
});
