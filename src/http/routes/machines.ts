/** Machine routes: each definition as XState's JSON, which Stately's tools read. */
import type { Hono } from "hono";
import { FLOW_KINDS, type FlowKind, flowDefinitions } from "../../../machines/index.js";
import { type AppEnv, methodNotAllowed } from "../app.js";
import { ApiError } from "../errors.js";

export function registerMachineRoutes(app: Hono<AppEnv>): void {
  app.get("/v1/machines", (c) =>
    c.json({ machines: FLOW_KINDS.map((kind) => ({ kind, version: flowDefinitions[kind].version })) }),
  );
  app.all("/v1/machines", methodNotAllowed);

  app.get("/v1/machines/:kind", (c) => {
    const kind = c.req.param("kind");
    if (!FLOW_KINDS.includes(kind as FlowKind)) throw new ApiError("not_found");

    // NOTE: a composite guard such as `and([...])` is a function, which JSON drops, so its
    // transition appears without a guard. Registering it under a name in the machine's
    // `setup` would keep the name.
    return c.json(flowDefinitions[kind as FlowKind].machine.toJSON());
  });
  app.all("/v1/machines/:kind", methodNotAllowed);
}
