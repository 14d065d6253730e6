/**
 * The web pages: registration, sign-in, the profile and, outside production, the
 * development mailbox. They are server-rendered with Hono's JSX and reach the service only
 * through the v1 API, like any other client. `UI=off` leaves them out.
 */
import { readFileSync } from "node:fs";
import type { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { Config } from "../config.js";
import type { AppEnv } from "../http/app.js";
import { ApiError } from "../http/errors.js";
import { createApiClient } from "./api-client.js";
import { registerMailboxPage } from "./mailbox.js";
import { registerMfaSettingsPages } from "./mfa-settings.js";
import { registerProfilePages } from "./profile.js";
import { registerRegistrationPages } from "./register.js";
import { pageMiddleware } from "./security.js";
import { registerSignInPages } from "./sign-in.js";

/** Paths of every page; each gets the page middleware before its handler. */
const PAGE_PATHS = [
  "/",
  "/register",
  "/sign-in",
  "/sign-in/*",
  "/sign-out",
  "/profile",
  "/profile/*",
  "/dev/mailbox",
];

const ASSET_TYPES: Record<string, string> = {
  "web.css": "text/css; charset=utf-8",
  "web.js": "text/javascript; charset=utf-8",
  "favicon.svg": "image/svg+xml",
};

export function registerWebRoutes(app: Hono<AppEnv>, config: Config): void {
  const api = createApiClient(app);
  for (const path of PAGE_PATHS) app.use(path, ...pageMiddleware);

  registerAssetRoutes(app);
  registerRegistrationPages(app, api);
  registerSignInPages(app, api);
  registerProfilePages(app, api);
  registerMfaSettingsPages(app, api);
  if (!config.production) registerMailboxPage(app, api);
}

function registerAssetRoutes(app: Hono<AppEnv>): void {
  const assets = new Map(
    Object.keys(ASSET_TYPES).map((name) => [
      name,
      readFileSync(new URL(`./assets/${name}`, import.meta.url)),
    ]),
  );
  app.use("/assets/*", secureHeaders());
  app.get("/assets/:name", (c) => {
    const name = c.req.param("name");
    const body = assets.get(name);
    if (!body) throw new ApiError("not_found");

    return c.body(body, 200, {
      "content-type": ASSET_TYPES[name]!,
      "cache-control": "public, max-age=3600",
    });
  });
}
