/**
 * The outbox while Resend fails: the flow is saved whatever the provider returns, the user
 * can ask for a new code, a mail whose code a newer one voided is dropped unsent, and a
 * permanent rejection is marked failed once.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { flowJournal } from "../../db/schema.js";
import { type TestApp, createTestApp } from "../support/app.js";
import { MINUTE, SECOND } from "../support/clock.js";
import { registerWithMfa, sendEvent, uniqueEmail } from "../support/flows.js";
import { codeOf, deliverDue, outboxRow, outboxRowsOfFlow, requestCode } from "../support/outbox.js";
import { type ResendImitation, startResendImitation } from "../support/resend-imitation.js";

let resend: ResendImitation;
let app: TestApp;

beforeAll(async () => {
  resend = await startResendImitation();
  app = await createTestApp({ resend });
});
afterAll(async () => {
  await app.close();
  await resend.close();
});

describe("outbox under provider failures", () => {
  it("saves the flow and backs off while Resend fails", async () => {
    const user = await registerWithMfa(app, uniqueEmail("saved"));
    resend.script("server_error", "rate_limited");
    const { flowId, row } = await requestCode(app, user.email);

    await deliverDue(app);
    const afterFirst = await outboxRow(app, row.id);
    expect(afterFirst.nextAttemptAt.getTime() - app.clock.now().getTime()).toBe(2 * SECOND);
    // Not due yet: a round now sends nothing.
    await deliverDue(app);
    expect(resend.requestsFor(row.id)).toBe(1);
    app.clock.advance(MINUTE);
    await deliverDue(app);
    const afterSecond = await outboxRow(app, row.id);
    expect(afterSecond.nextAttemptAt.getTime() - app.clock.now().getTime()).toBe(4 * SECOND);

    const read = await app.request("GET", `/v1/flows/${flowId}`);
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body.state).toBe("awaitingCode");
    const journal = await app.services.db.select().from(flowJournal).where(eq(flowJournal.flowId, flowId));
    expect(journal.map((entry) => [entry.eventType, entry.state])).toEqual([
      ["xstate.init", "awaitingCredentials"],
      ["SUBMIT_CREDENTIALS", "awaitingCode"],
    ]);
    const pending = await outboxRow(app, row.id);
    expect(pending.status).toBe("pending");
    expect(pending.attempts).toBe(2);
    expect(resend.requestsFor(row.id)).toBe(2);
  });

  it("sends a new code while the first still fails", async () => {
    const user = await registerWithMfa(app, uniqueEmail("newcode"));
    resend.script("server_error");
    const { flowId, row: first } = await requestCode(app, user.email);
    await deliverDue(app);

    app.clock.advance(MINUTE);
    const resent = await sendEvent(app, flowId, { type: "RESEND_CODE" });
    expect(resent.status, JSON.stringify(resent.body)).toBe(200);
    await deliverDue(app);
    app.clock.advance(MINUTE);
    await deliverDue(app);

    const rows = await outboxRowsOfFlow(app, flowId);
    expect(rows.length).toBe(2);
    const dropped = rows.find((row) => row.id === first.id)!;
    const second = rows.find((row) => row.id !== first.id)!;
    expect(dropped.status).toBe("dropped");
    expect(dropped.payload).toBeNull();
    expect(second.status).toBe("sent");
    expect(second.payload).toBeNull();
    expect(resend.requestsFor(first.id)).toBe(1);
    expect(resend.delivered.filter((mail) => mail.idempotencyKey === first.id)).toEqual([]);
    const mail = resend.delivered.find((candidate) => candidate.idempotencyKey === second.id);
    const done = await sendEvent(app, flowId, { type: "SUBMIT_CODE", code: codeOf(mail?.text) });
    expect(done.body.state, JSON.stringify(done.body)).toBe("authenticated");
  });

  it("keeps a mail dropped while its send fails", async () => {
    const user = await registerWithMfa(app, uniqueEmail("inflight"));
    // The commit of the credentials starts a dispatch round by itself, so the failure is
    // scripted before, once the user's earlier mails are out.
    await deliverDue(app);
    resend.script("invalid_sender");
    resend.latencyMs = 500;
    let firstId = "";
    try {
      const { flowId, row: first } = await requestCode(app, user.email);
      firstId = first.id;
      const round = deliverDue(app);
      await vi.waitFor(() => expect(resend.requestsFor(first.id)).toBe(1));
      app.clock.advance(MINUTE);
      const resent = await sendEvent(app, flowId, { type: "RESEND_CODE" });
      expect(resent.status, JSON.stringify(resent.body)).toBe(200);
      await round;
    } finally {
      resend.latencyMs = 0;
    }

    const row = await outboxRow(app, firstId);
    expect(row.status).toBe("dropped");
    expect(resend.delivered.filter((mail) => mail.idempotencyKey === firstId)).toEqual([]);
  });

  it("marks a rejected API key failed and logs it once", async () => {
    const user = await registerWithMfa(app, uniqueEmail("badkey"));
    resend.script("invalid_key");
    const { row: queued } = await requestCode(app, user.email);
    await deliverDue(app);
    app.clock.advance(10 * MINUTE);
    await deliverDue(app);

    const row = await outboxRow(app, queued.id);
    expect(row.status).toBe("failed");
    expect(row.payload).toBeNull();
    expect(row.lastError).toContain("401");
    expect(resend.requestsFor(queued.id)).toBe(1);
    const errors = app.logs.filter((line) => line.msg === "mail failed permanently" && line.outboxId === queued.id);
    expect(errors.length).toBe(1);
  });
});
