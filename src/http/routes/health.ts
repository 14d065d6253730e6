/** Liveness and readiness. */
import { sql } from "drizzle-orm";
import type { Hono } from "hono";
import { type AppEnv, methodNotAllowed } from "../app.js";
import { ApiError } from "../errors.js";

const READINESS_TIMEOUT_MS = 2_000;

export function registerHealthRoutes(app: Hono<AppEnv>): void {
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.all("/healthz", methodNotAllowed);

  app.get("/readyz", async (c) => {
    const { db, logger } = c.get("services");
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("readiness check timed out")), READINESS_TIMEOUT_MS);
    });
    try {
      await Promise.race([db.execute(sql`select 1`), timeout]);
    } catch (error) {
      logger.warn({ err: error }, "readiness check failed");
      throw new ApiError("service_unavailable");
    } finally {
      clearTimeout(timer);
    }
    return c.json({ status: "ready" });
  });
  app.all("/readyz", methodNotAllowed);
}
