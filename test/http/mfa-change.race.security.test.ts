/**
 * Someone who knows the password signs in while the owner turns MFA on. A session created by
 * the password alone must not outlive that change, whichever transaction commits first.
 */
import { and, eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessions } from "../../db/schema.js";
import { PASSWORD, type TestApp, createTestApp, readCode } from "../support/app.js";
import { createFlow, register, sendEvent, signIn, submitCredentials } from "../support/flows.js";

const PARALLEL_SIGN_INS = 20;

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(() => app.close());

describe("turning MFA on during sign-ins", () => {
  it("leaves no password-only session behind", async () => {
    const user = await register(app);
    const owner = await signIn(app, user.email);
    const enrollment = await createFlow(app, "enrollment", owner.sessionToken);
    await sendEvent(app, enrollment.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, owner.sessionToken);
    const code = await readCode(app, user.email);

    const signIns = Array.from({ length: PARALLEL_SIGN_INS }, () => submitCredentials(app, user.email));
    const enabled = sendEvent(app, enrollment.id, { type: "SUBMIT_CODE", code }, owner.sessionToken);
    const [enrollmentResponse, ...responses] = await Promise.all([enabled, ...signIns]);

    expect(enrollmentResponse.body.state).toBe("enabled");
    for (const { response } of responses) expect([200]).toContain(response.status);
    const live = await app.services.db
      .select()
      .from(sessions)
      .where(and(eq(sessions.userId, user.id), isNull(sessions.revokedAt)));
    const passwordOnly = live.filter((session) => session.authenticationMethod === "password");
    expect(passwordOnly.map((session) => session.tokenHash)).toHaveLength(1);
  });
});
