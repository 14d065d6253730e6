/** Operator route that lifts the sign-in pause of an address before it ends by itself. */
import type { Hono } from "hono";
import { recordAudit } from "../../audit.js";
import { liftSignInPause } from "../../sign-in-pauses.js";
import { findUser, normalizeEmail } from "../../users.js";
import { type AppEnv, methodNotAllowed } from "../app.js";
import { ApiError } from "../errors.js";
import { requireOperator } from "../operator-auth.js";
import { emailSchema } from "../schemas.js";

export function registerSignInPauseRoutes(app: Hono<AppEnv>): void {
  app.delete("/v1/admin/sign-in-pauses/:email", requireOperator, async (c) => {
    const { db, logger } = c.get("services");
    const parsed = emailSchema.safeParse(c.req.param("email"));
    if (!parsed.success) throw new ApiError("invalid_request", { message: "email: must be an email address" });
    const email = normalizeEmail(parsed.data);

    const lifted = await liftSignInPause(db, email);

    if (lifted) {
      const owner = await findUser(db, { email });
      await recordAudit(db, { actor: "operator", type: "sign_in_pause_lifted", userId: owner?.user.id ?? null });
    }
    logger.info({ requestId: c.get("requestId"), lifted }, "sign-in pause lifted by operator");
    return c.body(null, 204);
  });
  app.all("/v1/admin/sign-in-pauses/:email", requireOperator, methodNotAllowed);
}
