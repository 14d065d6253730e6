/**
 * The operator API changes any account, so a caller without the exact `ADMIN_TOKEN` must get
 * nothing done and learn nothing. Without `ADMIN_TOKEN` the whole API must look absent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, organizations } from "../../db/schema.js";
import { type TestApp, createTestApp } from "../support/app.js";
import { register, signIn } from "../support/flows.js";
import { ADMIN_TOKEN, OPERATOR_ENV } from "../support/operator.js";

/** One request to each operator route, with a valid body where it takes one. */
const ROUTES: [string, string, unknown?][] = [
  ["POST", "/v1/admin/users", { email: "new@example.com", password: "long enough password" }],
  ["POST", "/v1/admin/users/some-user/mfa-reset"],
  ["DELETE", "/v1/admin/users/some-user/sessions"],
  ["POST", "/v1/admin/organizations", { name: "Acme" }],
  ["GET", "/v1/admin/organizations/some-organization"],
  ["PATCH", "/v1/admin/organizations/some-organization", { mfaEnforced: true }],
  ["PUT", "/v1/admin/organizations/some-organization/members/some-user"],
  ["DELETE", "/v1/admin/organizations/some-organization/members/some-user"],
  ["DELETE", "/v1/admin/sign-in-pauses/someone%40example.com"],
];

describe("without ADMIN_TOKEN", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  it.each(ROUTES)("%s %s answers 404", async (method, path, body) => {
    const response = await app.request(method, path, body, { token: ADMIN_TOKEN });

    expect(response.status, JSON.stringify(response.body)).toBe(404);
    expect(response.body.error.code).toBe("not_found");
  });

  it("stores nothing", async () => {
    for (const [method, path, body] of ROUTES) await app.request(method, path, body, { token: ADMIN_TOKEN });

    expect(await app.services.db.select().from(organizations)).toEqual([]);
    expect(await app.services.db.select().from(auditEvents)).toEqual([]);
  });
});

describe("with ADMIN_TOKEN", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp({ env: OPERATOR_ENV });
  });
  afterAll(() => app.close());

  const WRONG_HEADERS: [string, Record<string, string>][] = [
    ["no header", {}],
    ["a wrong token", { authorization: "Bearer operator-token-for-tests-0123456789abcdeX" }],
    ["a prefix of the token", { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` }],
    ["the token with a suffix", { authorization: `Bearer ${ADMIN_TOKEN}x` }],
    ["another scheme", { authorization: `Basic ${ADMIN_TOKEN}` }],
    ["the token without a scheme", { authorization: ADMIN_TOKEN }],
    ["an empty bearer", { authorization: "Bearer " }],
  ];

  for (const [label, headers] of WRONG_HEADERS) {
    it(`answers 401 to ${label}`, async () => {
      for (const [method, path, body] of ROUTES) {
        const response = await app.request(method, path, body, { headers });
        expect(response.status, `${method} ${path}: ${JSON.stringify(response.body)}`).toBe(401);
        expect(response.body.error.code).toBe("unauthenticated");
      }
    });
  }

  it("answers 401 to a user's session token", async () => {
    const user = await register(app);
    const { sessionToken } = await signIn(app, user.email);

    const response = await app.request("POST", "/v1/admin/organizations", { name: "Acme" }, { token: sessionToken });

    expect(response.status, JSON.stringify(response.body)).toBe(401);
    expect(response.body.error.code).toBe("unauthenticated");
  });

  it("stores nothing for a rejected token", async () => {
    await app.request("POST", "/v1/admin/organizations", { name: "Acme" }, { token: "wrong" });

    expect(await app.services.db.select().from(organizations)).toEqual([]);
  });

  it("does not log a rejected token", async () => {
    const wrong = "a-wrong-operator-token-that-must-not-be-logged";
    await app.request("GET", "/v1/admin/organizations/x", undefined, { token: wrong });

    const logged = JSON.stringify(app.logs);
    expect(logged).not.toContain(wrong);
    expect(logged).not.toContain(ADMIN_TOKEN);
    expect(app.logs.some((line) => line.msg === "operator token rejected")).toBe(true);
  });

  it("answers 404 to an unknown operator path", async () => {
    const response = await app.request("GET", "/v1/admin/unknown", undefined, { token: ADMIN_TOKEN });

    expect(response.status, JSON.stringify(response.body)).toBe(404);
    expect(response.body.error.code).toBe("not_found");
  });
});
