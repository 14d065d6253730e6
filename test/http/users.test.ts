/** Registration, the signed-in user and signing out. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, type TestApp, createTestApp } from "../support/app.js";
import { register, signIn, uniqueEmail } from "../support/flows.js";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(() => app.close());

describe("registration", () => {
  it("stores the email lower-cased and the password hashed", async () => {
    const email = uniqueEmail("Case");
    const response = await app.request("POST", "/v1/users", { email, password: PASSWORD });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ id: expect.any(String), email: email.toLowerCase(), mfaEnabled: false });
  });

  it("answers 409 email_taken whatever the case", async () => {
    const user = await register(app);
    const response = await app.request("POST", "/v1/users", { email: user.email.toUpperCase(), password: PASSWORD });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe("email_taken");
  });

  it("requires passwords of 8 to 128 characters", async () => {
    for (const password of ["short", "x".repeat(129)]) {
      const response = await app.request("POST", "/v1/users", { email: uniqueEmail(), password });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe("invalid_request");
    }
  });

  it("rejects an invalid address", async () => {
    const response = await app.request("POST", "/v1/users", { email: "not-an-address", password: PASSWORD });
    expect(response.status).toBe(400);
  });
});

describe("closed registration", () => {
  it("answers 404", async () => {
    const closed = await createTestApp({ env: { REGISTRATION: "closed" } });
    try {
      const response = await closed.request("POST", "/v1/users", { email: uniqueEmail(), password: PASSWORD });
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe("not_found");
    } finally {
      await closed.close();
    }
  });
});

describe("sessions", () => {
  it("signs out that session only", async () => {
    const user = await register(app);
    const first = await signIn(app, user.email);
    const second = await signIn(app, user.email);

    const logout = await app.request("POST", "/v1/logout", undefined, { token: first.sessionToken });
    expect(logout.status).toBe(204);

    expect((await app.request("GET", "/v1/me", undefined, { token: first.sessionToken })).status).toBe(401);
    expect((await app.request("GET", "/v1/me", undefined, { token: second.sessionToken })).status).toBe(200);
  });

  it("expires after 12 hours", async () => {
    const user = await register(app);
    const output = await signIn(app, user.email);
    app.clock.advance(12 * 60 * 60_000);
    const me = await app.request("GET", "/v1/me", undefined, { token: output.sessionToken });
    expect(me.status).toBe(401);
  });
});
