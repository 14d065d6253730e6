/**
 * The server secret: `SECRET` from the environment, or in development one generated once and
 * stored in the database so that every process shares it.
 */
import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { serverSettings } from "../db/schema.js";

const SECRET_KEY = "development_secret";

/** Returns the stored development secret, creating it on first use. */
export async function loadDevelopmentSecret(db: Database): Promise<string> {
  await db
    .insert(serverSettings)
    .values({ key: SECRET_KEY, value: randomBytes(32).toString("base64url") })
    .onConflictDoNothing();
  const [row] = await db.select().from(serverSettings).where(eq(serverSettings.key, SECRET_KEY));
  if (!row) throw new Error("The development secret could not be stored.");
  return row.value;
}
