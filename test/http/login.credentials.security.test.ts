/**
 * An attacker probing addresses must learn nothing from a sign-in: an unknown email and a
 * wrong password give the same answer and cost the same password-hash work.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestApp, createTestApp } from "../support/app.js";
import { createFlow, register, sendEvent, uniqueEmail } from "../support/flows.js";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(() => app.close());

async function wrongSignIn(email: string) {
  const flow = await createFlow(app, "login");
  const verificationsBefore = app.hasher.verifications;
  const response = await sendEvent(app, flow.id, { type: "SUBMIT_CREDENTIALS", email, password: "wrong password 1" });
  return { response, verifications: app.hasher.verifications - verificationsBefore };
}

describe("invalid credentials", () => {
  it("answer the same for an unknown email and a wrong password", async () => {
    const user = await register(app);
    const known = await wrongSignIn(user.email);
    const unknown = await wrongSignIn(uniqueEmail("nobody"));

    expect(known.response.status).toBe(422);
    expect(unknown.response.status).toBe(422);
    expect(unknown.response.body.error).toEqual(known.response.body.error);
    expect(Object.keys(unknown.response.body.flow).sort()).toEqual(Object.keys(known.response.body.flow).sort());
    expect(unknown.response.body.flow.sentTo).toBeUndefined();
  });

  it("do the same hash work", async () => {
    const user = await register(app);
    const known = await wrongSignIn(user.email);
    const unknown = await wrongSignIn(uniqueEmail("nobody"));

    expect(known.verifications).toBe(1);
    expect(unknown.verifications).toBe(1);
  });
});
