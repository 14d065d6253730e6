/**
 * Development-only routes. The mailbox shows mails as sent, codes included; it is mounted only
 * outside production and only shows mail of the development transport. The replay page of a
 * flow shows its journal.
 */
import { desc, eq } from "drizzle-orm";
import type { Hono } from "hono";
import { devMailbox } from "../../../db/schema.js";
import { normalizeEmail } from "../../users.js";
import { type AppEnv, methodNotAllowed } from "../app.js";
import { ApiError } from "../errors.js";
import { registerFlowReplayRoutes } from "./flow-replay.js";

const MAILBOX_LIMIT = 50;

export function registerDevRoutes(app: Hono<AppEnv>): void {
  app.get("/v1/dev/mailbox", async (c) => {
    const { db, transport } = c.get("services");
    if (transport.name !== "development") {
      throw new ApiError("not_found", { message: "The development mailbox is off because RESEND_API_KEY is set." });
    }
    const to = c.req.query("to");

    const rows = await db
      .select()
      .from(devMailbox)
      .where(to ? eq(devMailbox.recipient, normalizeEmail(to)) : undefined)
      .orderBy(desc(devMailbox.sentAt), desc(devMailbox.id))
      .limit(MAILBOX_LIMIT);

    return c.json({
      messages: rows.map((row) => ({
        id: row.id,
        to: row.recipient,
        subject: row.subject,
        text: row.text,
        html: row.html,
        sentAt: row.sentAt.toISOString(),
      })),
    });
  });
  app.all("/v1/dev/mailbox", methodNotAllowed);

  registerFlowReplayRoutes(app);
}
