/** Enabling and disabling MFA through the profile pages, driven with app.request(). */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organizations, users } from "../../db/schema.js";
import { PASSWORD, type TestApp, createTestApp } from "../support/app.js";
import { register, registerWithMfa, signIn } from "../support/flows.js";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({ env: { RATE_LIMIT_PER_MINUTE: "0" } });
});
afterAll(() => app.close());

const SAME_ORIGIN = { origin: "http://localhost", "sec-fetch-site": "same-origin" };

function postForm(path: string, cookies: string[], fields: Record<string, string> = {}) {
  return app.app.request(path, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: cookies.join("; "),
      ...SAME_ORIGIN,
    },
    body: new URLSearchParams(fields).toString(),
  });
}

/** Returns `name=value` of a cookie that a response sets. */
function cookieSet(response: Response, name: string): string {
  const cookie = response.headers.getSetCookie().find((value) => value.startsWith(`${name}=`));
  if (!cookie) throw new Error(`The response set no ${name} cookie.`);
  return cookie.split(";")[0]!;
}

async function readMe(token: string) {
  const me = await app.request("GET", "/v1/me", undefined, { token });
  expect(me.status, JSON.stringify(me.body)).toBe(200);
  return me.body as { mfaEnabled: boolean };
}

describe("disable page", () => {
  it("needs no code right after a sign-in with a code", async () => {
    const user = await registerWithMfa(app);
    const session = `mfa_session=${user.token}`;

    const response = await postForm("/profile/disable", [session], { password: PASSWORD });

    expect(response.status, await response.text()).toBe(303);
    expect(response.headers.get("location")).toBe("/profile?notice=mfa-off");
    expect((await readMe(user.token)).mfaEnabled).toBe(false);
  });

  it("asks for a code after a sign-in without one", async () => {
    const user = await registerWithMfa(app);
    const trusted = await signIn(app, user.email, true);
    const output = await signInWithDevice(user.email, trusted.deviceToken!);
    const session = `mfa_session=${output.sessionToken}`;

    const response = await postForm("/profile/disable", [session], { password: PASSWORD });

    expect(response.status, await response.text()).toBe(303);
    expect(response.headers.get("location")).toBe("/profile/disable/code");
    expect(cookieSet(response, "mfa_settings_flow")).toMatch(/^mfa_settings_flow=.+/);
    expect((await readMe(output.sessionToken)).mfaEnabled).toBe(true);
  });

  it("explains enforcement instead of asking for the password", async () => {
    const user = await registerWithMfa(app);
    // NOTE: rows written directly, because the operator API for organizations is not on
    // this branch.
    await app.services.db
      .insert(organizations)
      .values({ id: `org-${user.id}`, name: "Acme Corp", mfaEnforced: true });
    await app.services.db
      .update(users)
      .set({ organizationId: `org-${user.id}` })
      .where(eq(users.id, user.id));

    const response = await app.app.request("/profile/disable", {
      headers: { cookie: `mfa_session=${user.token}` },
    });

    const html = await response.text();
    expect(response.status, html).toBe(403);
    expect(html).toContain("Your organization requires two-step verification");
    expect(html).not.toContain('id="password"');
  });
});

describe("enable page", () => {
  it("counts wrong passwords against one flow", async () => {
    const user = await register(app);
    const output = await signIn(app, user.email);
    const session = `mfa_session=${output.sessionToken}`;

    const first = await postForm("/profile/enable", [session], { password: "wrong password" });
    const firstHtml = await first.text();
    expect(first.status, firstHtml).toBe(422);
    expect(firstHtml).toContain("The password is incorrect. 4 attempts left.");
    const flow = cookieSet(first, "mfa_settings_flow");

    const second = await postForm("/profile/enable", [session, flow], { password: "wrong again" });
    const secondHtml = await second.text();
    expect(second.status, secondHtml).toBe(422);
    expect(secondHtml).toContain("The password is incorrect. 3 attempts left.");
  });

  it("sends a signed-out reader to the sign-in page", async () => {
    const response = await app.app.request("/profile/enable");

    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/sign-in");
  });
});

/** Signs in with a trusted device token, without a code. */
async function signInWithDevice(email: string, deviceToken: string) {
  const flow = await app.request("POST", "/v1/flows", { kind: "login" });
  const response = await app.request("POST", `/v1/flows/${flow.body.id}/events`, {
    type: "SUBMIT_CREDENTIALS",
    email,
    password: PASSWORD,
    deviceToken,
  });
  expect(response.body.state, JSON.stringify(response.body)).toBe("authenticated");
  return response.body.output as { sessionToken: string };
}
