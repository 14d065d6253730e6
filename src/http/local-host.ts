/** Limits the development routes to requests that name this machine, against DNS rebinding. */
import { isIP } from "node:net";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./app.js";
import { ApiError } from "./errors.js";

/** Paths of the development routes: the mailbox API, the flow replay page, the mailbox page. */
export const DEVELOPMENT_PATHS = ["/v1/dev/*", "/dev/*"];

/**
 * Rejects a development route whose `Host` is a DNS name other than `localhost`. A page on
 * another site can point its own name at 127.0.0.1 (DNS rebinding) and read the responses,
 * but the browser still sends that name in `Host`. An IP address in `Host` means the request
 * was addressed to this machine directly, so a development server reached over the LAN
 * still works.
 */
export const requireLocalHost: MiddlewareHandler<AppEnv> = async (c, next) => {
  const hostname = new URL(c.req.url).hostname.replace(/^\[(.*)\]$/, "$1");
  if (hostname !== "localhost" && isIP(hostname) === 0) {
    throw new ApiError("not_found", {
      message: "Development routes serve only requests addressed to localhost or an IP address; open them through one.",
    });
  }
  await next();
};
