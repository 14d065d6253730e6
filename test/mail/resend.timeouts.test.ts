/**
 * Timeouts against the Resend imitation: a request that never gets a response, and one that
 * Resend accepts but responds to after the timeout. The transport aborts both, and the retry carries the
 * same idempotency key, so the mail is delivered once.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createResendTransport } from "../../src/mail/transport.js";
import { type TestApp, createTestApp } from "../support/app.js";
import { MINUTE } from "../support/clock.js";
import { registerWithMfa, sendEvent, uniqueEmail } from "../support/flows.js";
import { codeOf, deliverDue, outboxRow, requestCode } from "../support/outbox.js";
import { RESEND_TEST_KEY, type ResendImitation, startResendImitation } from "../support/resend-imitation.js";

/** Short enough to keep the file quick; the imitation's `lateMs` is well beyond it. */
const TIMEOUT_MS = 1_000;

let resend: ResendImitation;
let app: TestApp;

beforeAll(async () => {
  resend = await startResendImitation();
  resend.lateMs = 3 * TIMEOUT_MS;
  const transport = createResendTransport(RESEND_TEST_KEY, { baseUrl: resend.url, timeoutMs: TIMEOUT_MS });
  app = await createTestApp({ resend, transport });
});
afterAll(async () => {
  await app.close();
  await resend.close();
});

describe("Resend timeouts", () => {
  it("retries a request without a response", async () => {
    const user = await registerWithMfa(app, uniqueEmail("hang"));
    resend.script("hang");
    const { flowId, row: queued } = await requestCode(app, user.email);
    const deliveredBefore = resend.delivered.length;

    await deliverDue(app);

    let row = await outboxRow(app, queued.id);
    expect(row.status).toBe("pending");
    expect(row.lastError).toBe(`timed out after ${TIMEOUT_MS} ms`);
    expect(row.payload).not.toBeNull();
    expect(resend.delivered.length).toBe(deliveredBefore);
    // The request was aborted, not left open beside the retry.
    await vi.waitFor(() => expect(resend.abandoned).toContain(queued.id));

    app.clock.advance(MINUTE);
    await deliverDue(app);

    row = await outboxRow(app, queued.id);
    expect(row.status).toBe("sent");
    expect(row.payload).toBeNull();
    expect(resend.requestsFor(queued.id)).toBe(2);
    const mails = resend.delivered.filter((mail) => mail.idempotencyKey === queued.id);
    expect(mails.length).toBe(1);
    const done = await sendEvent(app, flowId, { type: "SUBMIT_CODE", code: codeOf(mails[0]!.text) });
    expect(done.body.state, JSON.stringify(done.body)).toBe("authenticated");
  });

  it("delivers once a mail accepted after the timeout", async () => {
    const user = await registerWithMfa(app, uniqueEmail("late"));
    resend.script("accept_late");
    const { row: queued } = await requestCode(app, user.email);

    await deliverDue(app);

    // Resend has the mail, but the service gave up waiting for the response.
    let row = await outboxRow(app, queued.id);
    expect(row.status).toBe("pending");
    expect(row.lastError).toBe(`timed out after ${TIMEOUT_MS} ms`);
    const accepted = resend.delivered.filter((mail) => mail.idempotencyKey === queued.id);
    expect(accepted.length).toBe(1);

    app.clock.advance(MINUTE);
    await deliverDue(app);

    row = await outboxRow(app, queued.id);
    expect(row.status).toBe("sent");
    expect(row.payload).toBeNull();
    expect(row.attempts).toBe(2);
    expect(row.providerMessageId).toBe(accepted[0]!.id);
    expect(resend.requestsFor(queued.id)).toBe(2);
    expect(resend.delivered.filter((mail) => mail.idempotencyKey === queued.id).length).toBe(1);
  });

  it("logs each retry with the outbox id and no code", async () => {
    const user = await registerWithMfa(app, uniqueEmail("retrylog"));
    resend.script("hang");
    const { row: queued } = await requestCode(app, user.email);
    await deliverDue(app);
    app.clock.advance(MINUTE);
    await deliverDue(app);

    const lines = app.logs.filter((line) => line.outboxId === queued.id);
    expect(lines.map((line) => line.msg)).toEqual(["mail send failed, will retry", "mail sent"]);
    const code = codeOf(resend.delivered.find((mail) => mail.idempotencyKey === queued.id)?.text);
    expect(JSON.stringify(app.logs)).not.toContain(code);
  });
});
