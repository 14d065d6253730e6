/**
 * Someone who knows a member's password signs in while an operator turns enforcement on. A
 * session created by the password alone must not outlive that change, whichever transaction
 * commits first.
 */
import { and, eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessions } from "../../db/schema.js";
import { PASSWORD, type TestApp, createTestApp } from "../support/app.js";
import { createFlow, register, sendEvent } from "../support/flows.js";
import { OPERATOR_ENV, addMember, createOrganization, setEnforcement } from "../support/operator.js";

const PARALLEL_SIGN_INS = 20;

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({ env: OPERATOR_ENV });
});
afterAll(() => app.close());

describe("enforcement starting during sign-ins", () => {
  it("leaves no password-only session behind", async () => {
    const member = await register(app);
    const organization = await createOrganization(app);
    await addMember(app, organization.id, member.id);

    const flows = await Promise.all(Array.from({ length: PARALLEL_SIGN_INS }, () => createFlow(app, "login")));

    const signIns = flows.map((flow) =>
      sendEvent(app, flow.id, { type: "SUBMIT_CREDENTIALS", email: member.email, password: PASSWORD }),
    );
    const [enforced, ...attempts] = await Promise.all([setEnforcement(app, organization.id, true), ...signIns]);

    expect(enforced.mfaEnforced).toBe(true);
    for (const response of attempts) {
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(["authenticated", "awaitingCode"]).toContain(response.body.state);
    }
    const live = await app.services.db
      .select()
      .from(sessions)
      .where(and(eq(sessions.userId, member.id), isNull(sessions.revokedAt)));
    expect(live.map((session) => session.authenticationMethod)).toEqual([]);
  });
});
