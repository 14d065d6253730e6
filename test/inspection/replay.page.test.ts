/**
 * The development page that replays a flow's journal. It lists every journal entry's event
 * and resulting state in order, carries the same allow-listed fields as live inspection, and
 * loads no script from another site.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashCode } from "../../src/crypto.js";
import { PASSWORD, type TestApp, createTestApp, readCode } from "../support/app.js";
import { MINUTE } from "../support/clock.js";
import { createFlow, registerWithMfa, sendEvent } from "../support/flows.js";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(() => app.close());

/** Reads the journal list of a replay page as `event [outcome] → state` lines, in page order. */
function journalLines(page: string): string[] {
  const list = page.match(/<ol id="journal">(.*?)<\/ol>/s)?.[1] ?? "";
  return [...list.matchAll(/<li>(.*?)<\/li>/gs)].map((item) => {
    const event = item[1]!.match(/<code class="event">([^<]*)<\/code>/)?.[1];
    const outcome = item[1]!.match(/<code class="outcome">([^<]*)<\/code>/)?.[1];
    const state = item[1]!.match(/<code class="state">([^<]*)<\/code>/)?.[1];
    return `${event}${outcome ? ` ${outcome}` : ""} → ${state}`;
  });
}

function replayData(page: string) {
  const json = page.match(/<script type="application\/json" id="replay-data">(.*?)<\/script>/s)?.[1];
  return JSON.parse(json ?? "null");
}

function wholeWord(value: string): RegExp {
  return new RegExp(`(?<![0-9A-Za-z_-])${value}(?![0-9A-Za-z_-])`);
}

describe("replay page of a login with a code", () => {
  let flowId: string;
  let email: string;
  let page: string;
  let headers: Headers;
  const secrets = { codes: [] as string[], hashes: [] as string[], tokens: [] as string[] };

  beforeAll(async () => {
    const user = await registerWithMfa(app);
    email = user.email;
    secrets.tokens.push(user.token);
    const flow = await createFlow(app, "login");
    flowId = flow.id;
    await sendEvent(app, flowId, { type: "SUBMIT_CREDENTIALS", email, password: PASSWORD });
    const code = await readCode(app, email);
    const wrongCode = code === "000000" ? "111111" : "000000";
    secrets.codes.push(code, wrongCode);
    secrets.hashes.push(hashCode(app.services.keys.codeKey, flowId, code));
    await sendEvent(app, flowId, { type: "SUBMIT_CODE", code: wrongCode });
    const done = await sendEvent(app, flowId, { type: "SUBMIT_CODE", code, rememberDevice: true });
    expect(done.body.state, JSON.stringify(done.body)).toBe("authenticated");
    secrets.tokens.push(done.body.output.sessionToken, done.body.output.deviceToken);

    const response = await app.request("GET", `/v1/dev/flows/${flowId}/inspect`);
    expect(response.status, String(response.body)).toBe(200);
    page = response.body as string;
    headers = response.headers;
  });

  it("lists the journal in order", () => {
    expect(journalLines(page)).toEqual([
      "xstate.init → awaitingCredentials",
      "SUBMIT_CREDENTIALS → awaitingCode",
      "SUBMIT_CODE invalid_code → awaitingCode",
      "SUBMIT_CODE → authenticated",
    ]);
    expect(page).toContain('<code id="current-state">authenticated</code> (done)');
  });

  it("embeds the same steps for the inspector", () => {
    const replay = replayData(page);

    expect(replay.sessionId).toBe(flowId.slice(0, 8));
    expect(replay.definition.id).toBe("login");
    expect(replay.steps.map((step: { event: { type: string } }) => step.event.type)).toEqual([
      "xstate.init",
      "SUBMIT_CREDENTIALS",
      "SUBMIT_CODE",
      "SUBMIT_CODE",
    ]);
    expect(replay.steps[2].event.outcome).toBe("invalid_code");
    expect(replay.steps[3].snapshot).toMatchObject({ status: "done", value: "authenticated" });
    expect(replay.steps[3].snapshot.context.wrongSubmissions).toBe(1);
    expect(replay.steps[3].snapshot.context.codeHash).toBeNull();
  });

  it("contains no secret", () => {
    expect(page).not.toContain(PASSWORD);
    expect(page).not.toContain(email);
    for (const code of secrets.codes) expect(page).not.toMatch(wholeWord(code));
    for (const hash of secrets.hashes) expect(page).not.toContain(hash);
    for (const token of secrets.tokens) expect(page).not.toContain(token);
  });

  it("loads only its own script", () => {
    const policy = headers.get("content-security-policy") ?? "";
    const sources = [...page.matchAll(/<script[^>]* src="([^"]*)"/g)].map((match) => match[1]);

    expect(headers.get("content-type")).toContain("text/html");
    expect(sources).toEqual(["/v1/dev/assets/inspect-replay.js"]);
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toContain("unsafe-inline");
    expect(headers.get("cross-origin-opener-policy")).toBe("same-origin-allow-popups");
  });

  it("serves the bundled inspector script", async () => {
    const script = await app.request("GET", "/v1/dev/assets/inspect-replay.js");

    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toContain("javascript");
    // The window name that createBrowserInspector opens the inspector in.
    expect(script.body).toContain("xstateinspector");
    expect(script.body).toContain("https://stately.ai/inspect");
    expect(script.body).not.toMatch(/\bimport\s*[{*"]/);
  });
});

describe("replay page of an expired flow", () => {
  it("ends with the stored expiry", async () => {
    const flow = await createFlow(app, "login");
    app.clock.advance(16 * MINUTE);
    const read = await app.request("GET", `/v1/flows/${flow.id}`);
    expect(read.body.state).toBe("expired");

    const response = await app.request("GET", `/v1/dev/flows/${flow.id}/inspect`);

    expect(journalLines(response.body)).toEqual(["xstate.init → awaitingCredentials", "EXPIRE → expired"]);
  });
});

describe("replay page errors", () => {
  it("answers 404 for an unknown flow", async () => {
    const response = await app.request("GET", "/v1/dev/flows/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/inspect");
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe("flow_not_found");
  });

  it("answers 404 for an invalid id", async () => {
    const response = await app.request("GET", "/v1/dev/flows/not%20an%20id/inspect");
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe("flow_not_found");
  });

  it("answers 405 for other methods", async () => {
    const flow = await createFlow(app, "login");
    const response = await app.request("POST", `/v1/dev/flows/${flow.id}/inspect`);
    expect(response.status).toBe(405);
  });
});
