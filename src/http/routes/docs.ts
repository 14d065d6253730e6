/** The OpenAPI document and an interactive reference whose assets the service serves itself. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Hono } from "hono";
import { getAbsoluteFSPath } from "swagger-ui-dist";
import { type AppEnv, methodNotAllowed } from "../app.js";
import { ApiError } from "../errors.js";
import { createOpenApiDocument } from "../openapi.js";

const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "docs.js": "text/javascript; charset=utf-8",
};

// The page loads no inline script, so it works under a Content-Security-Policy without 'unsafe-inline'.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>API reference</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/docs.js"></script>
</body>
</html>`;

const STARTER = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#reference", deepLinking: true });`;

export function registerDocsRoutes(app: Hono<AppEnv>): void {
  const document = createOpenApiDocument();
  const folder = getAbsoluteFSPath();
  const cache = new Map<string, string>();

  app.get("/openapi.json", (c) => c.json(document));
  app.all("/openapi.json", methodNotAllowed);
  app.get("/docs", (c) => c.html(PAGE));
  app.all("/docs", methodNotAllowed);
  app.get("/docs/assets/:name", (c) => {
    const name = c.req.param("name");
    const type = ASSETS[name];
    if (!type) throw new ApiError("not_found");
    let body = cache.get(name);
    if (body === undefined) {
      body = name === "docs.js" ? STARTER : readFileSync(join(folder, name), "utf8");
      cache.set(name, body);
    }
    return c.body(body, 200, { "content-type": type, "cache-control": "public, max-age=3600" });
  });
}
