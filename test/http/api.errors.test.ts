/**
 * Bad input of every kind gets a 4xx with a code of the API's table, in the order the API
 * promises, and changes nothing stored.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flows } from "../../db/schema.js";
import { PASSWORD, type TestApp, createTestApp, readCode } from "../support/app.js";
import { createFlow, registerWithMfa, sendEvent, submitCredentials } from "../support/flows.js";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(() => app.close());

async function storedFlow(id: string) {
  const [row] = await app.services.db.select().from(flows).where(eq(flows.id, id));
  return row;
}

describe("request bodies", () => {
  it("answers 400 to malformed JSON", async () => {
    const flow = await createFlow(app, "login");
    const response = await app.request("POST", `/v1/flows/${flow.id}/events`, '{"type": "CANCEL"');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
  });

  it("answers 400 to a lone surrogate", async () => {
    const flow = await createFlow(app, "login");
    const body = '{"type":"CANCEL","note":"\\ud800"}';
    const response = await app.request("POST", `/v1/flows/${flow.id}/events`, body);
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/unpaired UTF-16 surrogate/);
    expect((await storedFlow(flow.id))?.state).toBe("awaitingCredentials");
  });

  it("answers 400 to deeply nested arrays with an escape", async () => {
    const flow = await createFlow(app, "login");
    const depth = 20_000;
    const body = `{"type":"CANCEL","note":"\\u0041","deep":${"[".repeat(depth)}${"]".repeat(depth)}}`;
    const response = await app.request("POST", `/v1/flows/${flow.id}/events`, body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
  });

  it("answers 415 to a body that is not JSON", async () => {
    const response = await app.request("POST", "/v1/flows", "kind=login", {
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(response.status).toBe(415);
    expect(response.body.error.code).toBe("unsupported_media_type");
  });

  it("answers 413 to a body over 64 KiB", async () => {
    const response = await app.request("POST", "/v1/users", { email: "a@example.com", password: "x".repeat(70_000) });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe("payload_too_large");
  });

  it("rejects unknown fields", async () => {
    const flow = await createFlow(app, "login");
    for (const body of [
      { type: "CANCEL", state: "authenticated" },
      { type: "SUBMIT_CREDENTIALS", email: "a@example.com", password: PASSWORD, skipMfa: true },
    ]) {
      const response = await sendEvent(app, flow.id, body);
      expect(response.status, JSON.stringify(response.body)).toBe(400);
      expect(response.body.error.code).toBe("invalid_request");
    }
    const create = await app.request("POST", "/v1/flows", { kind: "login", userId: "someone" });
    expect(create.status).toBe(400);
  });

  it("rejects codes that are not six ASCII digits", async () => {
    const user = await registerWithMfa(app);
    const { flowId } = await submitCredentials(app, user.email);
    const before = await storedFlow(flowId);
    for (const code of ["", "12345", "1234567", "١٢٣٤٥٦", "１２３４５６", "12345a", 123456, null]) {
      const response = await sendEvent(app, flowId, { type: "SUBMIT_CODE", code });
      expect(response.status, JSON.stringify(response.body)).toBe(400);
      expect(response.body.error.code).toBe("invalid_request");
    }
    expect((await storedFlow(flowId))?.version).toBe(before?.version);
  });

  it("rejects an event type the kind never accepts", async () => {
    const flow = await createFlow(app, "login");
    const response = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: PASSWORD });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
  });

  it("rejects an unknown flow kind", async () => {
    const response = await app.request("POST", "/v1/flows", { kind: "recovery" });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
  });
});

describe("flows", () => {
  it("answers 404 to an unknown flow", async () => {
    const response = await sendEvent(app, "no-such-flow", { type: "CANCEL" });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe("flow_not_found");
    const read = await app.request("GET", "/v1/flows/no-such-flow");
    expect(read.body.error.code).toBe("flow_not_found");
  });

  it("checks flow existence before the body", async () => {
    const response = await sendEvent(app, "no-such-flow", { type: "NONSENSE" });
    expect(response.status).toBe(404);
  });

  it("answers 409 event_not_allowed with the flow", async () => {
    const flow = await createFlow(app, "login");
    const response = await sendEvent(app, flow.id, { type: "SUBMIT_CODE", code: "123456" });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe("event_not_allowed");
    expect(response.body.flow.state).toBe("awaitingCredentials");
  });

  it("answers 409 flow_finished after a cancel", async () => {
    const flow = await createFlow(app, "login");
    const cancelled = await sendEvent(app, flow.id, { type: "CANCEL" });
    expect(cancelled.body.state).toBe("cancelled");
    const response = await sendEvent(app, flow.id, { type: "CANCEL" });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe("flow_finished");
  });

  it("treats a code without an outstanding code as wrong", async () => {
    const user = await registerWithMfa(app);
    const { flowId } = await submitCredentials(app, user.email);
    const code = await readCode(app, user.email);
    await sendEvent(app, flowId, { type: "CANCEL" });
    const response = await sendEvent(app, flowId, { type: "SUBMIT_CODE", code });
    expect(response.body.error.code).toBe("flow_finished");
  });

  it("answers 410 to a snapshot of an unknown machine version", async () => {
    const flow = await createFlow(app, "login");
    await app.services.db.update(flows).set({ machineVersion: 999 }).where(eq(flows.id, flow.id));

    const event = await sendEvent(app, flow.id, { type: "CANCEL" });
    expect(event.status).toBe(410);
    expect(event.body.error.code).toBe("flow_expired");
    const read = await app.request("GET", `/v1/flows/${flow.id}`);
    expect(read.status).toBe(410);
  });

  it("answers 410 to a snapshot naming a state that does not exist", async () => {
    const flow = await createFlow(app, "login");
    const row = await storedFlow(flow.id);
    const snapshot = { ...(row!.snapshot as object), value: "noSuchState" };
    await app.services.db.update(flows).set({ snapshot }).where(eq(flows.id, flow.id));

    const event = await sendEvent(app, flow.id, { type: "CANCEL" });
    expect(event.status).toBe(410);
    expect(event.body.error.code).toBe("flow_expired");
  });
});

describe("routes", () => {
  it("answers 404 not_found to an unknown route", async () => {
    const response = await app.request("GET", "/v1/nothing-here");
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe("not_found");
  });

  it("answers 405 to another method on a known path", async () => {
    const response = await app.request("DELETE", "/v1/flows");
    expect(response.status).toBe(405);
    expect(response.body.error.code).toBe("method_not_allowed");
  });

  it("answers 401 to a malformed or unknown token", async () => {
    for (const token of ["nonsense", "a".repeat(43), "x y"]) {
      const response = await app.request("GET", "/v1/me", undefined, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe("unauthenticated");
    }
  });
});
