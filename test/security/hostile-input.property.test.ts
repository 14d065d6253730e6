/**
 * Hostile input on every route: random JSON, wrong types, huge and deeply nested bodies,
 * look-alike digits, sentinel codes, smuggled fields and forged ids and tokens. Such input
 * must never reach a state change, a 500 or a crash. Each request gets a 4xx with an error
 * code of the API and leaves every stored row as it was.
 */
import { type IncomingMessage, request as httpRequest } from "node:http";
import { type ServerType, serve } from "@hono/node-server";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loginEventSchema, enrollmentEventSchema } from "../../machines/index.js";
import { ERRORS } from "../../src/http/errors.js";
import { createFlowBody, createUserBody } from "../../src/http/schemas.js";
import { PASSWORD, type ApiResponse, type TestApp, createTestApp, readCode } from "../support/app.js";
import { dumpTables } from "../support/dump.js";
import { createFlow, register, registerWithMfa, sendEvent, signIn, submitCredentials } from "../support/flows.js";
import { findFreePort } from "../support/processes.js";

const ADMIN_TOKEN = "operator-token-0123456789-0123456789";
const RUNS = 60;
const BODY_LIMIT = 64 * 1024;

let app: TestApp;
let before: Record<string, string[]>;
/** Seeded flows in chosen states, and a valid session. */
const seed = {
  token: "",
  enrollmentToken: "",
  awaitingCredentials: "",
  awaitingCode: "",
  finished: "",
  enrollment: "",
};

beforeAll(async () => {
  app = await createTestApp({ env: { ADMIN_TOKEN } });
  const mfaUser = await registerWithMfa(app);
  seed.token = mfaUser.token;
  seed.awaitingCredentials = (await createFlow(app, "login")).id;
  seed.awaitingCode = (await submitCredentials(app, mfaUser.email)).flowId;
  await readCode(app, mfaUser.email);
  const finished = await submitCredentials(app, mfaUser.email);
  await sendEvent(app, finished.flowId, { type: "SUBMIT_CODE", code: await readCode(app, mfaUser.email) });
  seed.finished = finished.flowId;
  const plain = await register(app);
  seed.enrollmentToken = (await signIn(app, plain.email)).sessionToken!;
  seed.enrollment = (await createFlow(app, "enrollment", seed.enrollmentToken)).id;
  await app.services.dispatcher.idle();
  before = await dumpTables(app.services.db);
});
afterAll(() => app.close());

afterEach(async () => {
  expect(await dumpTables(app.services.db)).toEqual(before);
  expect(app.logs.filter((line) => line.msg === "unhandled error")).toEqual([]);
});

/** Asserts a 4xx whose error code is in the API's table with that status. */
function expectClientError(response: ApiResponse, label: string): void {
  const context = `${label}: ${response.status} ${JSON.stringify(response.body)}`.slice(0, 2_000);
  expect(response.status, context).toBeGreaterThanOrEqual(400);
  expect(response.status, context).toBeLessThan(500);
  const code = response.body?.error?.code as keyof typeof ERRORS;
  expect(Object.keys(ERRORS), context).toContain(code);
  expect(ERRORS[code].status, context).toBe(response.status);
}

const eventPaths = () => [
  { path: `/v1/flows/${seed.awaitingCredentials}/events`, token: undefined },
  { path: `/v1/flows/${seed.awaitingCode}/events`, token: undefined },
  { path: `/v1/flows/${seed.finished}/events`, token: undefined },
  { path: `/v1/flows/${seed.enrollment}/events`, token: seed.enrollmentToken },
];

/** Whether a body would be a legitimate event for some flow, which this file must not send. */
function isValidEvent(body: unknown): boolean {
  return loginEventSchema.safeParse(body).success || enrollmentEventSchema.safeParse(body).success;
}

const EVENT_TYPES = ["SUBMIT_CREDENTIALS", "SUBMIT_PASSWORD", "SUBMIT_CODE", "RESEND_CODE", "CANCEL", "EXPIRE", "xstate.init"];

/** Strings that look like six digits to a person but are not six ASCII digits. */
const lookAlikeDigits = fc
  .array(
    fc.constantFrom(
      ..."٠١٢٣٤٥٦٧٨٩", // Arabic-Indic
      ..."۰۱۲۳۴۵۶۷۸۹", // Extended Arabic-Indic
      ..."０１２３４５６７８９", // fullwidth
      ..."०१२३४५६७८९", // Devanagari
      ..."𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗", // mathematical bold
      ..."0123456789",
    ),
    { minLength: 6, maxLength: 6 },
  )
  .map((digits) => digits.join(""))
  .filter((code) => !/^[0-9]{6}$/.test(code));

describe("random JSON bodies", () => {
  it("never succeed on any POST route", async () => {
    const routes = () => [
      { path: "/v1/users", token: undefined },
      { path: "/v1/flows", token: undefined },
      { path: "/v1/flows", token: seed.enrollmentToken },
      { path: "/v1/logout", token: "not-a-session" },
      ...eventPaths(),
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.jsonValue({ maxDepth: 4 }),
        fc.nat(),
        async (body, pick) => {
          fc.pre(!createFlowBody.safeParse(body).success && !createUserBody.safeParse(body).success && !isValidEvent(body));
          const route = routes()[pick % routes().length]!;
          const response = await app.request("POST", route.path, JSON.stringify(body), { token: route.token });
          expectClientError(response, `${route.path} ${JSON.stringify(body).slice(0, 200)}`);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("never succeed as events of the wrong types", async () => {
    const field = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.string(), { maxKeys: 3 }),
      fc.string({ unit: "grapheme", maxLength: 300 }),
    );
    const event = fc.record(
      {
        type: fc.oneof(fc.constantFrom(...EVENT_TYPES), field),
        email: field,
        password: field,
        code: field,
        rememberDevice: field,
        deviceToken: field,
      },
      { requiredKeys: ["type"] },
    );
    await fc.assert(
      fc.asyncProperty(event, fc.nat(), async (body, pick) => {
        fc.pre(!isValidEvent(body));
        const route = eventPaths()[pick % eventPaths().length]!;
        const response = await sendEvent(app, route.path.split("/")[3]!, body, route.token);
        expectClientError(response, JSON.stringify(body).slice(0, 200));
      }),
      { numRuns: RUNS },
    );
  });
});

describe("codes", () => {
  it("reject look-alike digits before comparing them", async () => {
    await fc.assert(
      fc.asyncProperty(lookAlikeDigits, async (code) => {
        const response = await sendEvent(app, seed.awaitingCode, { type: "SUBMIT_CODE", code });
        expectClientError(response, code);
        expect(response.body.error.code).toBe("invalid_request");
      }),
      { numRuns: RUNS },
    );
  });

  it("reject empty and sentinel codes", async () => {
    const sentinels = ["", "None", "null", "undefined", "NaN", " 12345", "12345 ", "12345", "1234567", "0x1234", "1e5000", "-12345"];
    for (const code of sentinels) {
      const response = await sendEvent(app, seed.awaitingCode, { type: "SUBMIT_CODE", code });
      expectClientError(response, JSON.stringify(code));
      expect(response.body.error.code).toBe("invalid_request");
    }
    for (const code of [null, 123456, 0, true, ["123456"], { code: "123456" }]) {
      const response = await sendEvent(app, seed.awaitingCode, { type: "SUBMIT_CODE", code });
      expect(response.body.error?.code, JSON.stringify(code)).toBe("invalid_request");
    }
  });

  it("answer 000000 on a flow with no code outstanding without comparing it", async () => {
    const notYet = await sendEvent(app, seed.awaitingCredentials, { type: "SUBMIT_CODE", code: "000000" });
    const finished = await sendEvent(app, seed.finished, { type: "SUBMIT_CODE", code: "000000" });
    const enrollment = await sendEvent(app, seed.enrollment, { type: "SUBMIT_CODE", code: "000000" }, seed.enrollmentToken);

    expect(notYet.body.error.code).toBe("event_not_allowed");
    expect(finished.body.error.code).toBe("flow_finished");
    expect(enrollment.body.error.code).toBe("event_not_allowed");
  });
});

describe("smuggled fields", () => {
  it("are rejected on every event", async () => {
    const extras = fc.constantFrom(
      "state",
      "skipMfa",
      "codeMatches",
      "passwordValid",
      "deviceTrusted",
      "codeRequired",
      "signInPaused",
      "recentlyVerified",
      "mfaEnforced",
      "userId",
      "now",
      "newCode",
      "context",
      "value",
      "constructor",
      "__proto__",
    );
    const valid = [
      { type: "SUBMIT_CREDENTIALS", email: "someone@example.com", password: PASSWORD },
      { type: "SUBMIT_CODE", code: "123456" },
      { type: "RESEND_CODE" },
      { type: "CANCEL" },
    ];
    await fc.assert(
      fc.asyncProperty(extras, fc.jsonValue({ maxDepth: 2 }), fc.nat(), fc.nat(), async (name, value, pickEvent, pickFlow) => {
        const event = valid[pickEvent % valid.length]!;
        // Built as text, so that `__proto__` is a key of the JSON and not a prototype.
        const body = `${JSON.stringify(event).slice(0, -1)},${JSON.stringify(name)}:${JSON.stringify(value)}}`;
        const route = eventPaths()[pickFlow % eventPaths().length]!;
        const response = await app.request("POST", route.path, body, { token: route.token });
        expectClientError(response, body.slice(0, 200));
        expect(["invalid_request", "flow_finished"], body.slice(0, 200)).toContain(response.body.error.code);
      }),
      { numRuns: RUNS },
    );
  });

  it("are rejected on flow creation and registration", async () => {
    for (const body of [
      { kind: "login", state: "authenticated" },
      { kind: "login", skipMfa: true },
      { email: "new@example.com", password: PASSWORD, mfaEnabled: true },
      { email: "new@example.com", password: PASSWORD, id: "admin" },
    ]) {
      const path = "kind" in body ? "/v1/flows" : "/v1/users";
      const response = await app.request("POST", path, body);
      expectClientError(response, JSON.stringify(body));
      expect(response.body.error.code).toBe("invalid_request");
    }
  });
});

describe("forged ids and tokens", () => {
  const forgedId = fc.oneof(
    fc.string({ minLength: 1, maxLength: 64 }),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 64 }),
    fc.string({ minLength: 2_000, maxLength: 8_000 }),
    fc.constantFrom("..", "../users", "..%2F..%2Fusers", "%2e%2e%2fusers", "....//", "%00", "a%00b", ".", "~", "%"),
    fc.base64String({ minLength: 32, maxLength: 32 }),
  );

  it("find no flow", async () => {
    await fc.assert(
      fc.asyncProperty(forgedId, fc.boolean(), async (id, raw) => {
        const segment = raw ? id : encodeURIComponent(id);
        const read = await app.request("GET", `/v1/flows/${segment}`);
        const event = await app.request("POST", `/v1/flows/${segment}/events`, { type: "CANCEL" });
        expectClientError(read, `GET ${segment.slice(0, 100)}`);
        expectClientError(event, `POST ${segment.slice(0, 100)}`);
      }),
      { numRuns: RUNS },
    );
  });

  it("do not authenticate", async () => {
    const token = fc.oneof(
      fc.string({ minLength: 1, maxLength: 600 }).filter((value) => /^[\x21-\x7e]+$/.test(value)),
      fc.base64String({ minLength: 43, maxLength: 44 }),
      fc.constant(`${seed.token}x`),
      fc.constant(seed.token.slice(0, -1)),
      fc.constant(seed.token.toUpperCase()),
    );
    await fc.assert(
      fc.asyncProperty(token, async (value) => {
        const responses = [
          await app.request("GET", "/v1/me", undefined, { token: value }),
          await app.request("POST", "/v1/flows", { kind: "enrollment" }, { token: value }),
          await app.request("POST", "/v1/logout", undefined, { token: value }),
          await app.request("GET", `/v1/flows/${seed.enrollment}`, undefined, { token: value }),
          await app.request("DELETE", "/v1/admin/sign-in-pauses/a@example.com", undefined, { token: value }),
        ];
        for (const response of responses) {
          expectClientError(response, value.slice(0, 100));
          expect(response.body.error.code).toBe("unauthenticated");
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("do not reach another user's flow", async () => {
    const response = await app.request("GET", `/v1/flows/${seed.enrollment}`, undefined, { token: seed.token });
    const event = await sendEvent(app, seed.enrollment, { type: "CANCEL" }, seed.token);

    expect(response.body.error.code).toBe("flow_not_found");
    expect(event.body.error.code).toBe("flow_not_found");
  });
});

describe("malformed requests", () => {
  it("reject other media types, methods and unknown paths", async () => {
    const cases: [string, string, Record<string, string>, string | undefined][] = [
      ["POST", "/v1/flows", { "content-type": "text/plain" }, '{"kind":"login"}'],
      ["POST", "/v1/flows", { "content-type": "application/x-www-form-urlencoded" }, "kind=login"],
      ["POST", "/v1/flows", {}, '{"kind":"login"}'],
      ["POST", "/v1/flows", { "content-type": "application/json" }, '{"kind":"login"'],
      ["POST", "/v1/flows", { "content-type": "application/json" }, ""],
      ["PUT", "/v1/flows", {}, undefined],
      ["DELETE", `/v1/flows/${seed.awaitingCode}`, {}, undefined],
      ["GET", `/v1/flows/${seed.awaitingCode}/events`, {}, undefined],
      ["GET", "/v1/machines/nothing", {}, undefined],
      ["GET", "/v1/nothing", {}, undefined],
      ["GET", "/v1/dev/mailbox?to=a%00b@example.com", {}, undefined],
      ["POST", "/v1/admin/sign-in-pauses/a@example.com", { authorization: `Bearer ${ADMIN_TOKEN}` }, undefined],
    ];
    for (const [method, path, headers, body] of cases) {
      const response = await app.app.request(path, { method, headers, body });
      const text = await response.text();
      expectClientError({ status: response.status, body: JSON.parse(text), headers: response.headers }, `${method} ${path}`);
    }
  });

  it("reject deep nesting", async () => {
    const arrays = "[".repeat(30_000) + "]".repeat(30_000);
    const objects = '{"kind":'.repeat(6_000) + "1" + "}".repeat(6_000);
    for (const body of [arrays, objects]) {
      expect(body.length).toBeLessThan(BODY_LIMIT);
      for (const path of ["/v1/flows", "/v1/users", `/v1/flows/${seed.awaitingCode}/events`]) {
        const response = await app.request("POST", path, body);
        expectClientError(response, `${path} nested ${body.length}`);
        expect(response.body.error.code).toBe("invalid_request");
      }
    }
  });

  it("reject bodies over 64 KiB with a length", async () => {
    const padding = "a".repeat(BODY_LIMIT);
    for (const path of ["/v1/flows", "/v1/users", `/v1/flows/${seed.awaitingCode}/events`]) {
      const response = await app.request("POST", path, `{"kind":"login","padding":"${padding}"}`);
      expectClientError(response, path);
      expect(response.body.error.code).toBe("payload_too_large");
    }
    const under = await app.request("POST", "/v1/flows", `{"kind":"login","p":"${"a".repeat(BODY_LIMIT - 40)}"}`);
    expect(under.body.error.code).toBe("invalid_request");
  });
});

describe("chunked bodies on a real socket", () => {
  let server: ServerType;
  let port: number;
  beforeAll(async () => {
    port = await findFreePort();
    server = await new Promise<ServerType>((resolve) => {
      const started = serve({ fetch: app.app.fetch, port, hostname: "127.0.0.1" }, () => resolve(started));
    });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Sends a body in chunks without Content-Length and returns the response. */
  function sendChunked(path: string, chunks: string[]): Promise<{ status: number; body: any }> {
    return new Promise((resolve, reject) => {
      const request = httpRequest(
        { host: "127.0.0.1", port, path, method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } },
        (response: IncomingMessage) => {
          let text = "";
          response.on("data", (chunk: Buffer) => (text += chunk.toString()));
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
        },
      );
      // The server may respond and close the socket before every chunk is written.
      request.on("error", reject);
      for (const chunk of chunks) request.write(chunk);
      request.end();
    });
  }

  it("rejects a chunked body over 64 KiB", async () => {
    const chunks = ['{"kind":"login","padding":"', ...Array(70).fill("a".repeat(1024)), '"}'];
    for (const path of ["/v1/flows", `/v1/flows/${seed.awaitingCode}/events`]) {
      const response = await sendChunked(path, chunks);
      expect(response.status, JSON.stringify(response.body)).toBe(413);
      expect(response.body.error.code).toBe("payload_too_large");
    }
    const small = await sendChunked("/v1/flows", ['{"kind":', '"nothing"}']);
    expect(small.body.error.code).toBe("invalid_request");
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
  });
});
