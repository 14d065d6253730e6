/**
 * Authentication of operators: `Authorization: Bearer <ADMIN_TOKEN>`. Without `ADMIN_TOKEN`
 * configured the operator API is off and every path under it returns 404.
 */
import type { MiddlewareHandler } from "hono";
import { isEqualSecret } from "../crypto.js";
import type { AppEnv } from "./app.js";
import { ApiError } from "./errors.js";

/** The path pattern of the operator API, for `app.use`. */
export const OPERATOR_PATHS = "/v1/admin/*";

/** Middleware that lets a request through only with the operator token. */
export const requireOperator: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { config, logger } = c.get("services");
  if (!config.adminToken) throw new ApiError("not_found");

  const token = c.req.header("authorization")?.match(/^Bearer (.+)$/)?.[1];
  // Compared in constant time, so response timing does not reveal a prefix of the token.
  if (!token || !isEqualSecret(token, config.adminToken)) {
    logger.warn({ requestId: c.get("requestId"), tokenPresent: Boolean(token) }, "operator token rejected");
    throw new ApiError("unauthenticated");
  }
  await next();
};
