/** Flow routes: create a flow, read it, and send it events. */
import type { Hono } from "hono";
import { setCookie } from "hono/cookie";
import type { FlowKind } from "../../../machines/index.js";
import { type AppEnv, methodNotAllowed } from "../app.js";
import { DEVICE_COOKIE, limitClient, readBody, readJson, requestContext } from "../request.js";
import { createFlowBody } from "../schemas.js";

export function registerFlowRoutes(app: Hono<AppEnv>): void {
  app.post("/v1/flows", async (c) => {
    const { kind } = await readBody(c, createFlowBody);
    await limitClient(c);
    const request = await requestContext(c);

    const flow = await c.get("services").runtime.create(kind as FlowKind, request);

    return c.json(flow, 201);
  });
  app.all("/v1/flows", methodNotAllowed);

  app.get("/v1/flows/:id", async (c) => {
    const request = await requestContext(c);

    const flow = await c.get("services").runtime.read(c.req.param("id"), request);

    return c.json(flow, 200);
  });
  app.all("/v1/flows/:id", methodNotAllowed);

  app.post("/v1/flows/:id/events", async (c) => {
    const body = await readJson(c);
    const request = await requestContext(c);

    const result = await c.get("services").runtime.send(c.req.param("id"), body, request);

    if (result.deviceTrust) {
      const now = c.get("services").now();
      const maxAge = Math.floor((result.deviceTrust.expiresAt.getTime() - now.getTime()) / 1000);
      setCookie(c, DEVICE_COOKIE, result.deviceTrust.token, {
        httpOnly: true,
        secure: true,
        sameSite: "Lax",
        path: "/",
        maxAge: Math.max(0, maxAge),
      });
    }
    return c.json(result.flow, 200);
  });
  app.all("/v1/flows/:id/events", methodNotAllowed);
}
