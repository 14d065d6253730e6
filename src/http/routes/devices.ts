/** Trusted-device routes: a signed-in user lists and revokes the devices that skip the code. */
import type { Hono } from "hono";
import { listDeviceTrusts, revokeAllDeviceTrusts, revokeDeviceTrust } from "../../device-trusts.js";
import { type AppEnv, methodNotAllowed } from "../app.js";
import { ApiError } from "../errors.js";
import { requireAuth } from "../request.js";

export function registerDeviceRoutes(app: Hono<AppEnv>): void {
  app.get("/v1/devices", async (c) => {
    const { user } = await requireAuth(c);
    const { db, now } = c.get("services");

    const rows = await listDeviceTrusts(db, user.id, now());

    return c.json({
      devices: rows.map((row) => ({
        id: row.id,
        createdAt: row.createdAt.toISOString(),
        expiresAt: row.expiresAt.toISOString(),
        lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
        userAgent: row.userAgent,
      })),
    });
  });
  app.delete("/v1/devices", async (c) => {
    const { user } = await requireAuth(c);
    const { db, now } = c.get("services");

    await revokeAllDeviceTrusts(db, user.id, now());

    return c.body(null, 204);
  });
  app.all("/v1/devices", methodNotAllowed);

  app.delete("/v1/devices/:id", async (c) => {
    const { user } = await requireAuth(c);
    const { db, now } = c.get("services");

    const found = await revokeDeviceTrust(db, user.id, c.req.param("id"), now());

    // Another user's device gets the same 404 as one that does not exist.
    if (!found) throw new ApiError("not_found", { message: "No trusted device has this id." });
    return c.body(null, 204);
  });
  app.all("/v1/devices/:id", methodNotAllowed);
}
