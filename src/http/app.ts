/** The Hono application: middleware, the error envelope and every route of the v1 API. */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { HashQueueFullError } from "../passwords.js";
import type { Services } from "../services.js";
import type { AuthenticatedSession } from "../sessions.js";
import { isDatabaseUnavailable, isInvalidText } from "./database-errors.js";
import { ApiError } from "./errors.js";
import { DEVELOPMENT_PATHS, requireLocalHost } from "./local-host.js";
import { OPERATOR_PATHS, requireOperator } from "./operator-auth.js";
import { registerDevRoutes } from "./routes/dev.js";
import { registerDeviceRoutes } from "./routes/devices.js";
import { registerDocsRoutes } from "./routes/docs.js";
import { registerFlowRoutes } from "./routes/flows.js";
import { registerHealthRoutes } from "./routes/health.js";
import { registerMachineRoutes } from "./routes/machines.js";
import { registerOperatorRoutes } from "./routes/operator.js";
import { registerSignInPauseRoutes } from "./routes/sign-in-pauses.js";
import { registerUserRoutes } from "./routes/users.js";
import { registerWebRoutes } from "../web/routes.js";

export interface AppEnv {
  Variables: {
    services: Services;
    requestId: string;
    /** Undefined until looked up; null when the request has no valid session. */
    auth: AuthenticatedSession | null | undefined;
  };
}

const MAX_BODY_BYTES = 64 * 1024;

/** Shortens flow ids in logged paths: a login flow id is its client's only credential. */
function loggablePath(path: string): string {
  return path.replace(/^(\/v1\/flows\/)([^/]{8})[^/]*/, "$1$2…");
}

/** Creates the application on built services. */
export function createApp(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { logger } = services;

  app.use(requestId({ limitLength: 64 }));
  app.use(async (c, next) => {
    c.set("services", services);
    c.set("auth", undefined);
    const started = performance.now();
    await next();
    const auth = c.get("auth");
    logger.info(
      {
        requestId: c.get("requestId"),
        method: c.req.method,
        path: loggablePath(c.req.path),
        status: c.res.status,
        durationMs: Math.round(performance.now() - started),
        ...(auth ? { userId: auth.user.id } : {}),
      },
      "request",
    );
  });
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError("payload_too_large");
      },
    }),
  );

  // Before every route under the operator paths, so that none of them runs unauthenticated.
  app.use(OPERATOR_PATHS, requireOperator);
  if (!services.config.production) {
    for (const path of DEVELOPMENT_PATHS) app.use(path, requireLocalHost);
  }

  registerHealthRoutes(app);
  registerUserRoutes(app);
  registerDeviceRoutes(app);
  registerOperatorRoutes(app);
  registerFlowRoutes(app);
  registerMachineRoutes(app);
  registerSignInPauseRoutes(app);
  registerDocsRoutes(app);
  if (!services.config.production) registerDevRoutes(app);
  if (services.config.ui) registerWebRoutes(app, services.config);

  app.notFound((c) => c.json(new ApiError("not_found").toBody(), 404));
  app.onError((error, c) => {
    if (error instanceof ApiError) {
      if (error.options.retryAfterSeconds !== undefined) {
        c.header("Retry-After", String(error.options.retryAfterSeconds));
      }
      return c.json(error.toBody(), error.status as ContentfulStatusCode);
    }
    if (error instanceof HashQueueFullError) {
      c.header("Retry-After", "1");
      return c.json(new ApiError("service_unavailable").toBody(), 503);
    }
    if (isInvalidText(error)) {
      logger.warn({ requestId: c.get("requestId"), err: error }, "request text rejected by the database");
      return c.json(new ApiError("invalid_request", { message: "The request contains characters that cannot be stored." }).toBody(), 400);
    }
    if (isDatabaseUnavailable(error)) {
      logger.warn({ requestId: c.get("requestId"), err: error }, "database unavailable");
      c.header("Retry-After", "1");
      return c.json(new ApiError("service_unavailable").toBody(), 503);
    }
    logger.error({ requestId: c.get("requestId"), err: error }, "unhandled error");
    return c.json(new ApiError("internal_error").toBody(), 500);
  });
  return app;
}

/** Answers 405 for the other methods of a path that exists. */
export function methodNotAllowed(): never {
  throw new ApiError("method_not_allowed");
}
