/** User routes: registration, the signed-in user, and signing out. */
import type { Hono } from "hono";
import { revokeSession } from "../../sessions.js";
import { createUser, isCodeRequired, toUserView } from "../../users.js";
import { type AppEnv, methodNotAllowed } from "../app.js";
import { ApiError } from "../errors.js";
import { limitClient, readBody, requireAuth } from "../request.js";
import { createUserBody } from "../schemas.js";

export function registerUserRoutes(app: Hono<AppEnv>): void {
  app.post("/v1/users", async (c) => {
    const { config, db, hasher, logger } = c.get("services");
    if (config.registration === "closed") throw new ApiError("not_found");
    const { email, password } = await readBody(c, createUserBody);
    await limitClient(c);

    const user = await createUser(db, hasher, email, password);

    logger.info({ requestId: c.get("requestId"), userId: user.id }, "user registered");
    return c.json(toUserView(user), 201);
  });
  app.all("/v1/users", methodNotAllowed);

  app.get("/v1/me", async (c) => {
    const { user, organization } = await requireAuth(c);

    return c.json({
      ...toUserView(user),
      mfaRequired: isCodeRequired({ user, organization }),
      organization: organization
        ? { id: organization.id, name: organization.name, mfaEnforced: organization.mfaEnforced }
        : null,
    });
  });
  app.all("/v1/me", methodNotAllowed);

  app.post("/v1/logout", async (c) => {
    const { session } = await requireAuth(c);
    const { db, now } = c.get("services");

    await revokeSession(db, session.id, now());

    return c.body(null, 204);
  });
  app.all("/v1/logout", methodNotAllowed);
}
