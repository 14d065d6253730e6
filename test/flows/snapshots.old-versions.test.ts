/**
 * Flows stored by earlier machine versions, or stored broken. The fixture is a login snapshot
 * as version 1 of the machine wrote it; the current machine must either continue it or respond
 * 410 `flow_expired`. A row that does not fit gets 410 too, never 500.
 */
import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flows, users } from "../../db/schema.js";
import { LOGIN_MACHINE_VERSION } from "../../machines/index.js";
import { createId } from "../../src/crypto.js";
import { createSession } from "../../src/sessions.js";
import { PASSWORD, type TestApp, createTestApp, readCode } from "../support/app.js";
import { SECOND } from "../support/clock.js";
import { sendEvent } from "../support/flows.js";

interface Fixture {
  kind: string;
  machineVersion: number;
  createdAt: string;
  snapshot: { value: string; context: Record<string, unknown> };
}

const fixture = JSON.parse(
  readFileSync(new URL("../fixtures/login-v1-awaiting-code.json", import.meta.url), "utf8"),
) as Fixture;
const EMAIL = "fixture@example.com";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
  await app.services.db.insert(users).values({
    id: String(fixture.snapshot.context.userId),
    email: EMAIL,
    passwordHash: await app.hasher.hash(PASSWORD),
    mfaEnabled: true,
  });
});
afterAll(() => app.close());

/** Stores a flow row as an earlier version or a bug could have left it; returns its id. */
async function storeFlow(overrides: { kind?: string; machineVersion?: number; snapshot?: unknown } = {}) {
  const id = createId(24);
  const createdAt = new Date(fixture.createdAt);
  app.clock.set(createdAt);
  await app.services.db.insert(flows).values({
    id,
    kind: overrides.kind ?? fixture.kind,
    userId: String(fixture.snapshot.context.userId),
    machineVersion: overrides.machineVersion ?? fixture.machineVersion,
    state: fixture.snapshot.value,
    status: "active",
    // JSON null is stored as such; a plain null would be SQL NULL.
    snapshot: overrides.snapshot === null ? sql`'null'::jsonb` : (overrides.snapshot ?? fixture.snapshot),
    expiresAt: new Date(Number(fixture.snapshot.context.expiresAt)),
    createdAt,
    updatedAt: createdAt,
  });
  return id;
}

async function expectExpired(id: string, label: string, token?: string) {
  const read = await app.request("GET", `/v1/flows/${id}`, undefined, { token });
  const event = await sendEvent(app, id, { type: "RESEND_CODE" }, token);
  for (const response of [read, event]) {
    expect(response.status, `${label}: ${JSON.stringify(response.body)}`).toBe(410);
    expect(response.body.error.code).toBe("flow_expired");
  }
}

describe("snapshot of login version 1", () => {
  it("continues under the current machine", async () => {
    expect(LOGIN_MACHINE_VERSION, "a new version needs a migration of this fixture, or a 410").toBe(1);
    const id = await storeFlow();

    const read = await app.request("GET", `/v1/flows/${id}`);
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body).toMatchObject({ state: "awaitingCode", attemptsRemaining: 4, sentTo: "f***@example.com" });
    app.clock.advance(60 * SECOND);
    const resent = await sendEvent(app, id, { type: "RESEND_CODE" });
    expect(resent.status, JSON.stringify(resent.body)).toBe(200);
    const done = await sendEvent(app, id, { type: "SUBMIT_CODE", code: await readCode(app, EMAIL) });

    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.state).toBe("authenticated");
  });

  it("answers 410 when stored with a version the machine no longer has", async () => {
    for (const machineVersion of [0, LOGIN_MACHINE_VERSION + 1, -1]) {
      await expectExpired(await storeFlow({ machineVersion }), `version ${machineVersion}`);
    }
  });
});

describe("broken snapshot", () => {
  const context = fixture.snapshot.context;
  const cases: [string, unknown][] = [
    ["a state that does not exist", { ...fixture.snapshot, value: "awaitingSmsCode" }],
    ["a nested state value", { ...fixture.snapshot, value: { awaitingCode: "sending" } }],
    ["a prototype key as state", { ...fixture.snapshot, value: "constructor" }],
    ["no context", { value: "awaitingCode" }],
    ["a context of the wrong types", { ...fixture.snapshot, context: { ...context, expiresAt: "tomorrow" } }],
    ["missing limits", { ...fixture.snapshot, context: { ...context, limits: undefined } }],
    ["a negative attempt count", { ...fixture.snapshot, context: { ...context, wrongSubmissions: -3 } }],
    ["a code hash that is not hex", { ...fixture.snapshot, context: { ...context, codeHash: "123456" } }],
    ["truncated JSON stored as a string", JSON.stringify(fixture.snapshot).slice(0, 40)],
    ["JSON null", null],
    ["an array", [fixture.snapshot]],
  ];

  for (const [label, snapshot] of cases) {
    it(`answers 410 for ${label}`, async () => {
      await expectExpired(await storeFlow({ snapshot }), label);
    });
  }

  it("answers 410 to the owner for a kind that no machine has", async () => {
    const id = await storeFlow({ kind: "signup" });
    const userId = String(context.userId);
    const session = await app.services.db.transaction((tx) => createSession(tx, userId, "code", app.clock.now(), 60_000));

    await expectExpired(id, "kind signup", session.token);
  });
});
