/**
 * Disablement while an organization enforces MFA: rejected when the flow is created, and
 * rejected for a flow opened earlier at each later event, without changing the stored flow.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flowJournal, flows, users } from "../../db/schema.js";
import { PASSWORD, type TestApp, createTestApp, readCode } from "../support/app.js";
import { MINUTE, SECOND } from "../support/clock.js";
import { createFlow, register, registerWithMfa, sendEvent, signIn } from "../support/flows.js";
import { addMember, createEnforcingOrganization, createOrganization, OPERATOR_ENV, setEnforcement } from "../support/operator.js";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({ env: OPERATOR_ENV });
});
afterAll(() => app.close());

async function storedFlow(id: string) {
  const [row] = await app.services.db.select().from(flows).where(eq(flows.id, id));
  return { version: row?.version, state: row?.state, snapshot: row?.snapshot };
}

async function isMfaEnabled(userId: string): Promise<boolean | undefined> {
  const [row] = await app.services.db.select({ mfaEnabled: users.mfaEnabled }).from(users).where(eq(users.id, userId));
  return row?.mfaEnabled;
}

/** Registers a user with MFA on in an organization that does not enforce it yet; the session signed in with a code. */
async function memberWithMfa() {
  const user = await registerWithMfa(app);
  const organization = await createOrganization(app);
  await addMember(app, organization.id, user.id);
  return { ...user, organizationId: organization.id };
}

describe("disablement creation while enforced", () => {
  it("is rejected for a member with MFA on", async () => {
    const member = await memberWithMfa();
    await setEnforcement(app, member.organizationId, true);

    const response = await app.request("POST", "/v1/flows", { kind: "disablement" }, { token: member.token });

    expect(response.status, JSON.stringify(response.body)).toBe(403);
    expect(response.body.error.code).toBe("mfa_enforced_by_organization");
    expect(await isMfaEnabled(member.id)).toBe(true);
  });

  it("is rejected for a member with MFA off", async () => {
    const user = await register(app);
    await createEnforcingOrganization(app, user.id);
    const { sessionToken } = await signIn(app, user.email);

    const response = await app.request("POST", "/v1/flows", { kind: "disablement" }, { token: sessionToken });

    expect(response.status, JSON.stringify(response.body)).toBe(403);
    expect(response.body.error.code).toBe("mfa_enforced_by_organization");
  });

  it("works again once enforcement is off", async () => {
    const member = await memberWithMfa();
    await setEnforcement(app, member.organizationId, true);
    await setEnforcement(app, member.organizationId, false);

    const flow = await createFlow(app, "disablement", member.token);
    const done = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, member.token);

    expect(done.body.state, JSON.stringify(done.body)).toBe("disabled");
    expect(await isMfaEnabled(member.id)).toBe(false);
  });
});

describe("disablement flow opened before enforcement", () => {
  it("is rejected at the password and left unchanged", async () => {
    const member = await memberWithMfa();
    const flow = await createFlow(app, "disablement", member.token);
    const before = await storedFlow(flow.id);
    await setEnforcement(app, member.organizationId, true);

    for (const password of [PASSWORD, "a wrong password"]) {
      const response = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password }, member.token);
      expect(response.status, JSON.stringify(response.body)).toBe(403);
      expect(response.body.error.code).toBe("mfa_enforced_by_organization");
      expect(response.body.flow.state).toBe("awaitingPassword");
      expect(response.body.flow.attemptsRemaining).toBe(5);
    }

    expect(await storedFlow(flow.id)).toEqual(before);
    expect(await isMfaEnabled(member.id)).toBe(true);
    const journal = await app.services.db.select().from(flowJournal).where(eq(flowJournal.flowId, flow.id));
    expect(journal.map((row) => row.outcome)).toEqual([
      "ok",
      "mfa_enforced_by_organization",
      "mfa_enforced_by_organization",
    ]);
  });

  it("proceeds once enforcement is off", async () => {
    const member = await memberWithMfa();
    const flow = await createFlow(app, "disablement", member.token);
    await setEnforcement(app, member.organizationId, true);
    const refused = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, member.token);
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);

    await setEnforcement(app, member.organizationId, false);
    const done = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, member.token);

    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.state).toBe("disabled");
    expect(await isMfaEnabled(member.id)).toBe(false);
  });

  it("is rejected at the code and left unchanged", async () => {
    const member = await memberWithMfa();
    // Past the recent verification window, disablement requires a fresh code.
    app.clock.advance(16 * MINUTE);
    const flow = await createFlow(app, "disablement", member.token);
    const password = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, member.token);
    expect(password.body.state, JSON.stringify(password.body)).toBe("awaitingCode");
    const code = await readCode(app, member.email);
    const before = await storedFlow(flow.id);
    await setEnforcement(app, member.organizationId, true);

    const submitted = await sendEvent(app, flow.id, { type: "SUBMIT_CODE", code }, member.token);
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(403);
    expect(submitted.body.error.code).toBe("mfa_enforced_by_organization");
    expect(submitted.body.flow.state).toBe("awaitingCode");
    app.clock.advance(61 * SECOND);
    const resent = await sendEvent(app, flow.id, { type: "RESEND_CODE" }, member.token);
    expect(resent.status, JSON.stringify(resent.body)).toBe(403);
    expect(resent.body.error.code).toBe("mfa_enforced_by_organization");

    expect(await storedFlow(flow.id)).toEqual(before);
    expect(await isMfaEnabled(member.id)).toBe(true);

    await setEnforcement(app, member.organizationId, false);
    const done = await sendEvent(app, flow.id, { type: "SUBMIT_CODE", code }, member.token);
    expect(done.body.state, JSON.stringify(done.body)).toBe("disabled");
  });

  it("can still be cancelled", async () => {
    const member = await memberWithMfa();
    const flow = await createFlow(app, "disablement", member.token);
    await setEnforcement(app, member.organizationId, true);

    const response = await sendEvent(app, flow.id, { type: "CANCEL" }, member.token);

    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.state).toBe("cancelled");
    expect(await isMfaEnabled(member.id)).toBe(true);
  });
});
