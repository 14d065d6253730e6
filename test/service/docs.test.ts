/** The OpenAPI document and the interactive reference. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERRORS } from "../../src/http/errors.js";
import { type TestApp, createTestApp } from "../support/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(() => app.close());

describe("OpenAPI document", () => {
  it("is OpenAPI 3.1 and lists the v1 routes", async () => {
    const response = await app.request("GET", "/openapi.json");
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe("3.1.0");
    const paths = Object.keys(response.body.paths);
    for (const path of ["/v1/users", "/v1/me", "/v1/logout", "/v1/flows", "/v1/flows/{id}", "/v1/flows/{id}/events", "/v1/machines/{kind}"]) {
      expect(paths).toContain(path);
    }
  });

  it("describes the strict event bodies", async () => {
    const response = await app.request("GET", "/openapi.json");
    const body = JSON.stringify(response.body.paths["/v1/flows/{id}/events"].post.requestBody);
    expect(body).toContain("SUBMIT_CREDENTIALS");
    expect(body).toContain('"additionalProperties":false');
  });

  it("lists only error codes that the service defines", async () => {
    const response = await app.request("GET", "/openapi.json");
    const operations = Object.values(response.body.paths).flatMap((path) => Object.values(path as object));
    const descriptions = operations.flatMap((operation) =>
      Object.values((operation as { responses: Record<string, { description: string }> }).responses).map(
        (answer) => answer.description,
      ),
    );
    const codes = descriptions.flatMap((description) => [...description.matchAll(/`([a-z_]+)`/g)].map((match) => match[1]));
    expect(codes).toContain("invalid_code");
    for (const code of codes) expect(Object.keys(ERRORS)).toContain(code);
  });
});

describe("reference page", () => {
  it("serves its assets itself", async () => {
    const page = await app.request("GET", "/docs");
    expect(page.status).toBe(200);
    expect(page.body).toContain("/docs/assets/swagger-ui-bundle.js");
    expect(page.body).not.toMatch(/https?:\/\//);
    const bundle = await app.request("GET", "/docs/assets/swagger-ui-bundle.js");
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toContain("javascript");
    const missing = await app.request("GET", "/docs/assets/../../package.json");
    expect(missing.status).toBe(404);
  });
});

describe("machines", () => {
  it("lists the machines and serves their JSON", async () => {
    const list = await app.request("GET", "/v1/machines");
    expect(list.body.machines.map((machine: { kind: string }) => machine.kind)).toEqual(["login", "enrollment", "disablement"]);
    const login = await app.request("GET", "/v1/machines/login");
    expect(login.body.id).toBe("login");
    expect(Object.keys(login.body.states)).toContain("awaitingCode");
    expect((await app.request("GET", "/v1/machines/other")).status).toBe(404);
  });
});
