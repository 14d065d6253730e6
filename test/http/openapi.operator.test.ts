/** The OpenAPI document lists the operator and device routes with their authentication. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestApp, createTestApp } from "../support/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(() => app.close());

const ROUTES: [string, string, string][] = [
  ["post", "/v1/admin/users", "operator"],
  ["post", "/v1/admin/users/{id}/mfa-reset", "operator"],
  ["delete", "/v1/admin/users/{id}/sessions", "operator"],
  ["post", "/v1/admin/organizations", "operator"],
  ["get", "/v1/admin/organizations/{id}", "operator"],
  ["patch", "/v1/admin/organizations/{id}", "operator"],
  ["put", "/v1/admin/organizations/{id}/members/{userId}", "operator"],
  ["delete", "/v1/admin/organizations/{id}/members/{userId}", "operator"],
  ["get", "/v1/devices", "session"],
  ["delete", "/v1/devices", "session"],
  ["delete", "/v1/devices/{id}", "session"],
];

describe("GET /openapi.json", () => {
  it.each(ROUTES)("lists %s %s", async (method, path, scheme) => {
    const response = await app.request("GET", "/openapi.json");

    const operation = response.body.paths?.[path]?.[method];
    expect(operation, JSON.stringify(Object.keys(response.body.paths ?? {}))).toBeDefined();
    expect(operation.security).toEqual([{ [scheme]: [] }]);
    expect(operation.responses["401"]).toBeDefined();
  });
});
