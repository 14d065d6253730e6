/**
 * Another site could post the page forms from a visitor's browser (signing the visitor in to
 * the attacker's account, or out of their own), frame the pages, or run injected script in
 * them. The pages reject cross-site form posts, send a Content-Security-Policy without
 * inline script and keep tokens in HttpOnly, Secure, SameSite=Lax cookies, never in URLs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flows } from "../../db/schema.js";
import { PASSWORD, type TestApp, createTestApp, readCode } from "../support/app.js";
import { register, registerWithMfa } from "../support/flows.js";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({ env: { RATE_LIMIT_PER_MINUTE: "0" } });
});
afterAll(() => app.close());

const SAME_ORIGIN = { origin: "http://localhost", "sec-fetch-site": "same-origin" };

/** Posts a form to a page with the headers of a same-origin browser, or with `headers`. */
function postForm(
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = SAME_ORIGIN,
) {
  return app.app.request(path, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

function cookieNamed(response: Response, name: string): string | undefined {
  return response.headers.getSetCookie().find((cookie) => cookie.startsWith(`${name}=`));
}

describe("page headers", () => {
  it("send a Content-Security-Policy without inline script", async () => {
    const response = await app.app.request("/sign-in");
    const html = await response.text();

    expect(response.status, html).toBe(200);
    const policy = response.headers.get("content-security-policy") ?? "";
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("style-src 'self'");
    expect(policy).toContain("form-action 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toContain("unsafe-inline");
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);
  });

  it("forbid framing, sniffing and caching", async () => {
    const response = await app.app.request("/sign-in");

    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("serve the page assets from the service", async () => {
    for (const [path, type] of [
      ["/assets/web.css", "text/css"],
      ["/assets/web.js", "text/javascript"],
      ["/assets/favicon.svg", "image/svg+xml"],
    ] as const) {
      const response = await app.app.request(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type"), path).toContain(type);
    }
    const missing = await app.app.request("/assets/missing.js");
    expect(missing.status).toBe(404);
  });
});

describe("cross-site form posts", () => {
  it("reject a sign-in posted from another site and start no flow", async () => {
    const user = await register(app);
    const before = await app.services.db.select().from(flows);

    const response = await postForm(
      "/sign-in",
      { email: user.email, password: PASSWORD },
      { origin: "https://attacker.example", "sec-fetch-site": "cross-site" },
    );

    const html = await response.text();
    expect(response.status, html).toBe(403);
    expect(html).toContain("This form was sent from another site");
    expect(cookieNamed(response, "mfa_session")).toBeUndefined();
    const after = await app.services.db.select().from(flows);
    expect(after.length).toBe(before.length);
  });

  it("reject a form post that names no origin", async () => {
    const response = await postForm("/sign-out", {}, {});

    expect(response.status).toBe(403);
  });

  it("accept a form post from the same origin", async () => {
    const user = await register(app);

    const response = await postForm("/sign-in", { email: user.email, password: PASSWORD });

    expect(response.status, await response.text()).toBe(303);
    expect(response.headers.get("location")).toBe("/profile");
  });
});

describe("page cookies", () => {
  it("keep the session in an HttpOnly, Secure, SameSite=Lax cookie", async () => {
    const user = await register(app);

    const response = await postForm("/sign-in", { email: user.email, password: PASSWORD });

    const cookie = cookieNamed(response, "mfa_session") ?? "";
    expect(cookie).toMatch(/^mfa_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("Secure");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).toContain("Path=/");
    expect(cookie).toContain(`Max-Age=${12 * 3600}`);
    const token = cookie.split(";")[0]!.split("=")[1]!;
    expect(response.headers.get("location")).not.toContain(token);
  });

  it("keep the login flow id out of the address", async () => {
    const user = await registerWithMfa(app);

    const response = await postForm("/sign-in", { email: user.email, password: PASSWORD });

    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/sign-in/code");
    const cookie = cookieNamed(response, "mfa_login_flow") ?? "";
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("Secure");
    expect(cookie).toContain("SameSite=Lax");
  });

  it("pass the device cookie on from the API", async () => {
    const user = await registerWithMfa(app);
    const credentials = await postForm("/sign-in", { email: user.email, password: PASSWORD });
    const flowCookie = cookieNamed(credentials, "mfa_login_flow")!.split(";")[0]!;
    const code = await readCode(app, user.email);

    const response = await postForm(
      "/sign-in/code",
      { code, rememberDevice: "on" },
      { ...SAME_ORIGIN, cookie: flowCookie },
    );

    expect(response.status, await response.text()).toBe(303);
    const device = cookieNamed(response, "mfa_device") ?? "";
    expect(device).toMatch(/^mfa_device=[A-Za-z0-9_-]{43};/);
    expect(device).toContain("HttpOnly");
    expect(device).toContain(`Max-Age=${14 * 24 * 3600}`);
    expect(cookieNamed(response, "mfa_login_flow")).toContain("Max-Age=0");
  });

  it("stop working after signing out", async () => {
    const user = await register(app);
    const signIn = await postForm("/sign-in", { email: user.email, password: PASSWORD });
    const session = cookieNamed(signIn, "mfa_session")!.split(";")[0]!;

    const signOut = await postForm("/sign-out", {}, { ...SAME_ORIGIN, cookie: session });
    expect(signOut.headers.get("location")).toBe("/sign-in?notice=signed-out");
    expect(cookieNamed(signOut, "mfa_session")).toContain("Max-Age=0");

    const profile = await app.app.request("/profile", { headers: { cookie: session } });
    expect(profile.status).toBe(303);
    expect(profile.headers.get("location")).toBe("/sign-in");
    const token = session.split("=")[1]!;
    const me = await app.request("GET", "/v1/me", undefined, { token });
    expect(me.status, JSON.stringify(me.body)).toBe(401);
  });
});

describe("UI setting", () => {
  it("UI=off removes the pages and keeps the API", async () => {
    const withoutPages = await createTestApp({ env: { UI: "off" } });
    try {
      for (const path of [
        "/",
        "/sign-in",
        "/register",
        "/profile",
        "/dev/mailbox",
        "/assets/web.css",
      ]) {
        const response = await withoutPages.request("GET", path);
        expect(response.status, path).toBe(404);
        expect(response.body.error.code, path).toBe("not_found");
      }
      const health = await withoutPages.request("GET", "/healthz");
      expect(health.status).toBe(200);
    } finally {
      await withoutPages.close();
    }
  });

  it("production mode has no mailbox page", async () => {
    const production = await createTestApp({
      env: { NODE_ENV: "production", RESEND_API_KEY: "re_test_key" },
    });
    try {
      const mailbox = await production.request("GET", "/dev/mailbox");
      expect(mailbox.status).toBe(404);
      const signIn = await production.app.request("/sign-in");
      const html = await signIn.text();
      expect(signIn.status, html).toBe(200);
      expect(html).not.toContain("/dev/mailbox");
    } finally {
      await production.close();
    }
  });
});
