/** Reads what the development transport delivered, after the dispatcher has sent the outbox. */
import { desc, eq } from "drizzle-orm";
import { devMailbox } from "../../db/schema.js";
import type { TestApp } from "./app.js";

/** Sends what the outbox holds, then returns the subjects mailed to an address, newest first. */
export async function readSubjects(app: TestApp, email: string): Promise<string[]> {
  await app.services.dispatcher.kick();
  await app.services.dispatcher.idle();
  const rows = await app.services.db
    .select({ subject: devMailbox.subject })
    .from(devMailbox)
    .where(eq(devMailbox.recipient, email.toLowerCase()))
    .orderBy(desc(devMailbox.sentAt), desc(devMailbox.id));
  return rows.map((row) => row.subject);
}
