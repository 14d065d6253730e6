/** Reading and draining the outbox of a test app. */
import { eq } from "drizzle-orm";
import { expect } from "vitest";
import { mailOutbox } from "../../db/schema.js";
import type { TestApp } from "./app.js";
import { submitCredentials } from "./flows.js";

export type OutboxRow = typeof mailOutbox.$inferSelect;

/** Runs the dispatcher until it has nothing due. */
export async function deliverDue(app: TestApp): Promise<void> {
  await app.services.dispatcher.kick();
  await app.services.dispatcher.idle();
}

export async function outboxRow(app: TestApp, id: string): Promise<OutboxRow> {
  const [row] = await app.services.db.select().from(mailOutbox).where(eq(mailOutbox.id, id));
  if (!row) throw new Error(`No outbox row ${id}.`);
  return row;
}

export function outboxRowsOfFlow(app: TestApp, flowId: string): Promise<OutboxRow[]> {
  return app.services.db.select().from(mailOutbox).where(eq(mailOutbox.flowId, flowId));
}

/** Submits the credentials of a user with MFA; returns the flow and the outbox row of its code. */
export async function requestCode(app: TestApp, email: string) {
  const { flowId, response } = await submitCredentials(app, email);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  expect(response.body.state).toBe("awaitingCode");
  const rows = await outboxRowsOfFlow(app, flowId);
  expect(rows.length).toBe(1);
  expect(rows[0]!.template).toBe("code");
  return { flowId, row: rows[0]! };
}

/** Returns the six-digit code in a mail's text. */
export function codeOf(text: string | undefined): string {
  const code = text?.match(/\b(\d{6})\b/)?.[1];
  if (!code) throw new Error(`No code in the mail text: ${text}`);
  return code;
}
