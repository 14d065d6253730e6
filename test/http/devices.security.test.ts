/**
 * A device token skips the code, so it must only ever work for the user who earned it, and
 * that user must be able to see and revoke it. Another user's device must look absent, even
 * when both users share one browser and its `mfa_device` cookie.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessions, trustedDevices } from "../../db/schema.js";
import { PASSWORD, type TestApp, createTestApp, readCode } from "../support/app.js";
import { DAY, MINUTE } from "../support/clock.js";
import { createFlow, registerWithMfa, sendEvent, signIn, submitCredentials } from "../support/flows.js";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(() => app.close());

const BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0";

/** Signs in with a code from a browser and remembers the device; returns the session and device tokens. */
async function rememberBrowser(email: string, userAgent = BROWSER) {
  const flow = await createFlow(app, "login");
  const headers = { "user-agent": userAgent };
  const credentials = await app.request(
    "POST",
    `/v1/flows/${flow.id}/events`,
    { type: "SUBMIT_CREDENTIALS", email, password: PASSWORD },
    { headers },
  );
  expect(credentials.body.state, JSON.stringify(credentials.body)).toBe("awaitingCode");
  const code = await readCode(app, email);
  const done = await app.request(
    "POST",
    `/v1/flows/${flow.id}/events`,
    { type: "SUBMIT_CODE", code, rememberDevice: true },
    { headers },
  );
  expect(done.body.state, JSON.stringify(done.body)).toBe("authenticated");
  return {
    sessionToken: done.body.output.sessionToken as string,
    deviceToken: done.body.output.deviceToken as string,
    cookie: (done.headers.get("set-cookie") ?? "").split(";")[0]!,
  };
}

async function listDevices(token: string) {
  const response = await app.request("GET", "/v1/devices", undefined, { token });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.devices as { id: string; createdAt: string; expiresAt: string; lastUsedAt: string | null; userAgent: string | null }[];
}

describe("GET /v1/devices", () => {
  it("lists the user's devices with their user agent", async () => {
    const user = await registerWithMfa(app);
    const created = app.clock.now();
    const { sessionToken } = await rememberBrowser(user.email);

    const devices = await listDevices(sessionToken);

    expect(devices).toEqual([
      {
        id: expect.any(String),
        createdAt: created.toISOString(),
        expiresAt: new Date(created.getTime() + 14 * DAY).toISOString(),
        lastUsedAt: null,
        userAgent: BROWSER,
      },
    ]);
  });

  it("records when a device skipped the code", async () => {
    const user = await registerWithMfa(app);
    const { deviceToken } = await rememberBrowser(user.email);
    app.clock.advance(3 * DAY);
    const used = app.clock.now();

    const { response } = await submitCredentials(app, user.email, { deviceToken });

    expect(response.body.state, JSON.stringify(response.body)).toBe("authenticated");
    const [device] = await listDevices(response.body.output.sessionToken);
    expect(device?.lastUsedAt).toBe(used.toISOString());
  });

  it("leaves out revoked and expired devices", async () => {
    const user = await registerWithMfa(app);
    const first = await rememberBrowser(user.email);
    const [revoked] = await listDevices(first.sessionToken);
    await app.request("DELETE", `/v1/devices/${revoked!.id}`, undefined, { token: first.sessionToken });
    await rememberBrowser(user.email);
    app.clock.advance(14 * DAY + MINUTE);
    const current = await rememberBrowser(user.email, "curl/8.5.0");

    const devices = await listDevices(current.sessionToken);

    expect(devices.map((device) => device.userAgent)).toEqual(["curl/8.5.0"]);
  });

  it("answers 401 without a session", async () => {
    const response = await app.request("GET", "/v1/devices");

    expect(response.status, JSON.stringify(response.body)).toBe(401);
    expect(response.body.error.code).toBe("unauthenticated");
  });
});

describe("DELETE /v1/devices/{id}", () => {
  it("revokes the device so the code is asked again", async () => {
    const user = await registerWithMfa(app);
    const { sessionToken, deviceToken } = await rememberBrowser(user.email);
    const [device] = await listDevices(sessionToken);

    const response = await app.request("DELETE", `/v1/devices/${device!.id}`, undefined, { token: sessionToken });

    expect(response.status, JSON.stringify(response.body)).toBe(204);
    expect(await listDevices(sessionToken)).toEqual([]);
    const { response: login } = await submitCredentials(app, user.email, { deviceToken });
    expect(login.body.state, JSON.stringify(login.body)).toBe("awaitingCode");
    const again = await app.request("DELETE", `/v1/devices/${device!.id}`, undefined, { token: sessionToken });
    expect(again.status, JSON.stringify(again.body)).toBe(204);
  });

  it("answers 404 to another user's device and leaves it", async () => {
    const owner = await registerWithMfa(app);
    const intruder = await registerWithMfa(app);
    const { sessionToken, deviceToken } = await rememberBrowser(owner.email);
    const [device] = await listDevices(sessionToken);

    const response = await app.request("DELETE", `/v1/devices/${device!.id}`, undefined, { token: intruder.token });

    expect(response.status, JSON.stringify(response.body)).toBe(404);
    expect(response.body.error.code).toBe("not_found");
    expect(await listDevices(intruder.token)).toEqual([]);
    const [stored] = await app.services.db.select().from(trustedDevices).where(eq(trustedDevices.id, device!.id));
    expect(stored?.revokedAt).toBeNull();
    const { response: login } = await submitCredentials(app, owner.email, { deviceToken });
    expect(login.body.state, JSON.stringify(login.body)).toBe("authenticated");
  });

  it("answers 404 to an unknown id", async () => {
    const user = await registerWithMfa(app);

    const response = await app.request("DELETE", "/v1/devices/no-such-device", undefined, { token: user.token });

    expect(response.status, JSON.stringify(response.body)).toBe(404);
    expect(response.body.error.code).toBe("not_found");
  });
});

describe("DELETE /v1/devices", () => {
  it("revokes every device so the next sign-in asks for a code", async () => {
    const user = await registerWithMfa(app);
    const other = await registerWithMfa(app);
    const first = await rememberBrowser(user.email);
    const second = await rememberBrowser(user.email, "curl/8.5.0");
    const kept = await rememberBrowser(other.email);

    const response = await app.request("DELETE", "/v1/devices", undefined, { token: first.sessionToken });

    expect(response.status, JSON.stringify(response.body)).toBe(204);
    expect(await listDevices(first.sessionToken)).toEqual([]);
    for (const deviceToken of [first.deviceToken, second.deviceToken]) {
      const { response: login } = await submitCredentials(app, user.email, { deviceToken });
      expect(login.body.state, JSON.stringify(login.body)).toBe("awaitingCode");
    }
    const { response: otherLogin } = await submitCredentials(app, other.email, { deviceToken: kept.deviceToken });
    expect(otherLogin.body.state, JSON.stringify(otherLogin.body)).toBe("authenticated");
  });
});

describe("trusted device of another user", () => {
  it("is ignored in the same browser", async () => {
    const owner = await registerWithMfa(app);
    const other = await registerWithMfa(app);
    const { cookie } = await rememberBrowser(owner.email);
    expect(cookie).toMatch(/^mfa_device=/);

    const flow = await createFlow(app, "login");
    const response = await app.request(
      "POST",
      `/v1/flows/${flow.id}/events`,
      { type: "SUBMIT_CREDENTIALS", email: other.email, password: PASSWORD },
      { headers: { cookie } },
    );

    expect(response.body.state, JSON.stringify(response.body)).toBe("awaitingCode");
  });
});

describe("turning MFA off", () => {
  it("revokes the user's trusted devices", async () => {
    const user = await registerWithMfa(app);
    const { sessionToken, deviceToken } = await rememberBrowser(user.email);
    const flow = await createFlow(app, "disablement", sessionToken);

    const done = await sendEvent(app, flow.id, { type: "SUBMIT_PASSWORD", password: PASSWORD }, sessionToken);

    expect(done.body.state, JSON.stringify(done.body)).toBe("disabled");
    expect(await listDevices(sessionToken)).toEqual([]);
    const stored = await app.services.db.select().from(trustedDevices).where(eq(trustedDevices.userId, user.id));
    expect(stored.every((device) => device.revokedAt !== null)).toBe(true);
  });
});

describe("POST /v1/logout", () => {
  it("revokes that session only", async () => {
    const user = await registerWithMfa(app);
    const first = await signIn(app, user.email);
    const second = await signIn(app, user.email);

    const response = await app.request("POST", "/v1/logout", undefined, { token: first.sessionToken });

    expect(response.status, JSON.stringify(response.body)).toBe(204);
    const ended = await app.request("GET", "/v1/me", undefined, { token: first.sessionToken });
    expect(ended.status).toBe(401);
    for (const token of [second.sessionToken, user.token]) {
      const me = await app.request("GET", "/v1/me", undefined, { token });
      expect(me.status, JSON.stringify(me.body)).toBe(200);
    }
    const revoked = await app.services.db.select().from(sessions).where(eq(sessions.userId, user.id));
    expect(revoked.filter((session) => session.revokedAt !== null).length).toBe(1);
  });
});
