/** The address of the client that sent a request, for the per-client limit. */
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import type { AppEnv } from "./app.js";

/** Stands for every request whose address is unknown, such as `app.request()` in tests. */
const UNKNOWN_ADDRESS = "unknown";

/**
 * Returns the client address. With `TRUST_PROXY` it is the last entry of `X-Forwarded-For`,
 * which the proxy in front of the service appended, because earlier entries come from the
 * client and could be forged. Without `TRUST_PROXY` it is the socket's peer address.
 */
export function clientAddress(c: Context<AppEnv>): string {
  if (c.get("services").config.trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (forwarded) return forwarded.slice(0, 64);
  }
  try {
    return getConnInfo(c).remote.address ?? UNKNOWN_ADDRESS;
  } catch {
    return UNKNOWN_ADDRESS;
  }
}
