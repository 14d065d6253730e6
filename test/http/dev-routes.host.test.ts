/**
 * The development routes answer only requests addressed to localhost or an IP address, so a
 * page on another site that points its name at 127.0.0.1 (DNS rebinding) cannot read codes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestApp, createTestApp } from "../support/app.js";
import { createFlow } from "../support/flows.js";

let app: TestApp;
let flowId: string;

beforeAll(async () => {
  app = await createTestApp();
  flowId = (await createFlow(app, "login")).id;
});
afterAll(() => app.close());

describe("development routes by host", () => {
  const paths = () => ["/v1/dev/mailbox", `/v1/dev/flows/${flowId}/inspect`, "/dev/mailbox"];

  it.each(["rebind.evil.example:3000", "localhost.evil.example", "127.0.0.1.nip.io"])(
    "answers 404 to host %s",
    async (host) => {
      for (const path of paths()) {
        const response = await app.request("GET", `http://${host}${path}`);
        expect(response.status, path).toBe(404);
        expect(response.body.error.code, path).toBe("not_found");
      }
    },
  );

  it.each(["localhost:3000", "127.0.0.1:3000", "[::1]:3000", "192.168.1.20:3000"])(
    "serves host %s",
    async (host) => {
      for (const path of paths()) {
        const response = await app.request("GET", `http://${host}${path}`);
        expect(response.status, path).toBe(200);
      }
    },
  );

  it("leaves other routes to every host", async () => {
    const response = await app.request("GET", "http://api.example.com/v1/machines");
    expect(response.status).toBe(200);
  });
});
