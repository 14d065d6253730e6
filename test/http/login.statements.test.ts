/**
 * The statements that each step of a sign-in sends to the database. Every statement inside a
 * transaction is a round trip unless it is sent together with others, so these lists pin the
 * fewest the design allows: a locked read, then the writes of the event in one batch.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, type TestApp, createTestApp, readCode } from "../support/app.js";
import { createFlow, registerWithMfa, sendEvent } from "../support/flows.js";

let app: TestApp;
let statements: string[] = [];

beforeAll(async () => {
  app = await createTestApp({ onQuery: (query) => statements.push(query) });
});
afterAll(async () => {
  await app.close();
});

/**
 * Names a statement by its verb and table, such as `select flows for update`, or a statement
 * with data-modifying `with` clauses by the tables it inserts into.
 */
function describeStatement(query: string): string {
  const verb = query.trim().split(/\s+/)[0]?.toLowerCase() ?? "";
  if (verb === "with") {
    const inserted = [...query.matchAll(/insert into\s+"?([a-z_]+)"?/gi)].map((match) => match[1]);
    return `with ${inserted.map((table) => `insert ${table}`).join(", ")}`;
  }
  const table =
    query.match(/^\s*(?:insert into|update|delete from)\s+"([a-z_]+)"/i)?.[1] ??
    query.match(/\sfrom\s+"([a-z_]+)"/i)?.[1] ??
    "?";
  return `${verb} ${table}${/for update/i.test(query) ? " for update" : ""}`;
}

/** The mail dispatcher's claims, deliveries and outcomes, which run beside the request. */
const DISPATCHER_STATEMENT = /skip locked|"sent_at" = |"last_error" = |"dev_mailbox"/;

/** Runs a request and returns the statements it sent, leaving out the mail dispatcher's. */
async function statementsOf<T>(request: () => Promise<T>): Promise<{ result: T; sent: string[] }> {
  await app.services.dispatcher.idle();
  statements = [];
  const result = await request();
  const sent = statements
    .filter((query) => !DISPATCHER_STATEMENT.test(query))
    .map(describeStatement);
  return { result, sent };
}

describe("login statements", () => {
  it("sends one locked read and the writes for each step", async () => {
    const user = await registerWithMfa(app);

    const created = await statementsOf(() => createFlow(app, "login"));
    expect(created.sent).toEqual(["with insert flows, insert flow_journal"]);

    const flowId = created.result.id;
    const credentials = await statementsOf(() =>
      sendEvent(app, flowId, { type: "SUBMIT_CREDENTIALS", email: user.email, password: PASSWORD }),
    );
    expect(credentials.result.status, JSON.stringify(credentials.result.body)).toBe(200);
    // The address's failure row is locked in the same round trip as the flow row.
    expect(credentials.sent).toEqual([
      "select flows",
      "select users",
      "select flows for update",
      "select users",
      "select organizations",
      "insert sign_in_failures",
      "select sign_in_failures for update",
      "update flows",
      "insert flow_journal",
      "insert mail_outbox",
    ]);

    const code = await readCode(app, user.email);
    const submitted = await statementsOf(() => sendEvent(app, flowId, { type: "SUBMIT_CODE", code }));
    expect(submitted.result.status, JSON.stringify(submitted.result.body)).toBe(200);
    // The user row is locked in the same round trip as the flow row, and the organization is
    // read after that lock is granted.
    expect(submitted.sent).toEqual([
      "select flows for update",
      "select users",
      "select organizations",
      "insert sign_in_failures",
      "select sign_in_failures for update",
      "update flows",
      "insert flow_journal",
      "insert sessions",
    ]);
  });

  it("drops the older code mail only when a code was sent before", async () => {
    const user = await registerWithMfa(app);
    const flow = await createFlow(app, "login");
    await sendEvent(app, flow.id, { type: "SUBMIT_CREDENTIALS", email: user.email, password: PASSWORD });
    app.clock.advance(61_000);

    const resend = await statementsOf(() => sendEvent(app, flow.id, { type: "RESEND_CODE" }));

    expect(resend.result.status, JSON.stringify(resend.result.body)).toBe(200);
    expect(resend.sent).toEqual([
      "select flows for update",
      "select users",
      "select organizations",
      "update flows",
      "insert flow_journal",
      "update mail_outbox",
      "insert mail_outbox",
    ]);
  });
});
