/** The disablement flow over the HTTP API on a real database. */
import { and, eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trustedDevices, users } from "../../db/schema.js";
import { PASSWORD, type TestApp, createTestApp, readCode } from "../support/app.js";
import { MINUTE } from "../support/clock.js";
import { createFlow, register, registerWithMfa, sendEvent, signIn, submitCredentials } from "../support/flows.js";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(() => app.close());

async function mfaEnabled(userId: string): Promise<boolean> {
  const [row] = await app.services.db.select().from(users).where(eq(users.id, userId));
  return row!.mfaEnabled;
}

describe("disablement", () => {
  it("needs no new code within 15 minutes of a sign-in with a code", async () => {
    const user = await registerWithMfa(app);
    app.clock.advance(14 * MINUTE);
    const flow = await createFlow(app, "disablement", user.token);

    const response = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, user.token);

    expect(response.status).toBe(200);
    expect(response.body.state).toBe("disabled");
    expect(await mfaEnabled(user.id)).toBe(false);
  });

  it("asks for a code 15 minutes after the sign-in", async () => {
    const user = await registerWithMfa(app);
    app.clock.advance(15 * MINUTE);
    const flow = await createFlow(app, "disablement", user.token);

    const response = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, user.token);
    expect(response.body.state).toBe("awaitingCode");
    const done = await sendEvent(app, flow.id, { type: "SUBMIT_CODE", code: await readCode(app, user.email) }, user.token);

    expect(done.body.state).toBe("disabled");
    expect(await mfaEnabled(user.id)).toBe(false);
  });

  it("asks a trusted-device session for a code and revokes every trust", async () => {
    const user = await registerWithMfa(app);
    const remembered = await signIn(app, user.email, true);
    const { response } = await submitCredentials(app, user.email, { deviceToken: remembered.deviceToken });
    expect(response.body.state).toBe("authenticated");
    const token = response.body.output.sessionToken;

    const flow = await createFlow(app, "disablement", token);
    const password = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, token);
    expect(password.body.state).toBe("awaitingCode");
    await sendEvent(app, flow.id, { type: "SUBMIT_CODE", code: await readCode(app, user.email) }, token);

    const live = await app.services.db
      .select()
      .from(trustedDevices)
      .where(and(eq(trustedDevices.userId, user.id), isNull(trustedDevices.revokedAt)));
    expect(live).toEqual([]);
  });

  it("answers 409 when MFA is off", async () => {
    const user = await register(app);
    const output = await signIn(app, user.email);
    const response = await app.request("POST", "/v1/flows", { kind: "disablement" }, { token: output.sessionToken });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe("mfa_not_enabled");
  });

  it("rejects a wrong password and keeps MFA on", async () => {
    const user = await registerWithMfa(app);
    const flow = await createFlow(app, "disablement", user.token);

    const response = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: "not the password" }, user.token);

    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe("invalid_password");
    expect(await mfaEnabled(user.id)).toBe(true);
  });
});
