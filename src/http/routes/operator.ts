/**
 * The operator API under `/v1/admin`: users, MFA resets, sessions and organizations. The
 * `requireOperator` middleware authenticates every request before these handlers run.
 */
import type { Context, Hono } from "hono";
import { addMember, createOrganization, findOrganization, removeMember, setMfaEnforcement } from "../../organizations.js";
import { createUser, resetMfa, revokeSessionsByOperator, toUserView } from "../../users.js";
import { type AppEnv, methodNotAllowed } from "../app.js";
import { readBody } from "../request.js";
import { createOrganizationBody, createUserBody, updateOrganizationBody } from "../schemas.js";

/** Logs an operator's change with the request id, so that it can be matched with its audit row. */
function logChange(c: Context<AppEnv>, event: string, ids: Record<string, string>): void {
  c.get("services").logger.info({ requestId: c.get("requestId"), event, ...ids }, "operator change applied");
}

export function registerOperatorRoutes(app: Hono<AppEnv>): void {
  registerUserRoutes(app);
  registerOrganizationRoutes(app);
}

function registerUserRoutes(app: Hono<AppEnv>): void {
  app.post("/v1/admin/users", async (c) => {
    const { email, password } = await readBody(c, createUserBody);
    const { db, hasher } = c.get("services");

    const user = await createUser(db, hasher, email, password, "operator");

    logChange(c, "user.created", { userId: user.id });
    return c.json(toUserView(user), 201);
  });
  app.all("/v1/admin/users", methodNotAllowed);

  app.post("/v1/admin/users/:id/mfa-reset", async (c) => {
    const userId = c.req.param("id");
    const { db, dispatcher, keys, now } = c.get("services");

    await resetMfa(db, keys.outboxKey, userId, now());

    void dispatcher.kick();
    logChange(c, "user.mfa_reset", { userId });
    return c.body(null, 204);
  });
  app.all("/v1/admin/users/:id/mfa-reset", methodNotAllowed);

  app.delete("/v1/admin/users/:id/sessions", async (c) => {
    const userId = c.req.param("id");
    const { db, now } = c.get("services");

    await revokeSessionsByOperator(db, userId, now());

    logChange(c, "user.sessions_revoked", { userId });
    return c.body(null, 204);
  });
  app.all("/v1/admin/users/:id/sessions", methodNotAllowed);
}

function registerOrganizationRoutes(app: Hono<AppEnv>): void {
  app.post("/v1/admin/organizations", async (c) => {
    const { name } = await readBody(c, createOrganizationBody);
    const { db, now } = c.get("services");

    const organization = await createOrganization(db, name, now());

    logChange(c, "organization.created", { organizationId: organization.id });
    return c.json(organization, 201);
  });
  app.all("/v1/admin/organizations", methodNotAllowed);

  app.get("/v1/admin/organizations/:id", async (c) => {
    const organization = await findOrganization(c.get("services").db, c.req.param("id"));

    return c.json(organization, 200);
  });
  app.patch("/v1/admin/organizations/:id", async (c) => {
    const { mfaEnforced } = await readBody(c, updateOrganizationBody);
    const organizationId = c.req.param("id");
    const { db, dispatcher, keys, now } = c.get("services");

    const change = await setMfaEnforcement(db, keys.outboxKey, organizationId, mfaEnforced, now());

    if (change.mailQueued) void dispatcher.kick();
    logChange(c, mfaEnforced ? "organization.mfa_enforced" : "organization.mfa_not_enforced", { organizationId });
    return c.json(change.organization, 200);
  });
  app.all("/v1/admin/organizations/:id", methodNotAllowed);

  app.put("/v1/admin/organizations/:id/members/:userId", async (c) => {
    const { id: organizationId, userId } = c.req.param();
    const { db, now } = c.get("services");

    await addMember(db, organizationId, userId, now());

    logChange(c, "organization.member_added", { organizationId, userId });
    return c.body(null, 204);
  });
  app.delete("/v1/admin/organizations/:id/members/:userId", async (c) => {
    const { id: organizationId, userId } = c.req.param();
    const { db, now } = c.get("services");

    await removeMember(db, organizationId, userId, now());

    logChange(c, "organization.member_removed", { organizationId, userId });
    return c.body(null, 204);
  });
  app.all("/v1/admin/organizations/:id/members/:userId", methodNotAllowed);
}
