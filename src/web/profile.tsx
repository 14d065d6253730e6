/**
 * The profile page: whether two-step verification is on, off or required by the
 * organization, the trusted devices with a revoke button each, and signing out.
 */
import type { Context, Hono } from "hono";
import type { AppEnv } from "../http/app.js";
import type { ApiClient } from "./api-client.js";
import { SESSION_COOKIE, clearPageCookie } from "./cookies.js";
import { describeUserAgent } from "./format.js";
import { ButtonForm, Notice, Time, renderPage } from "./layout.js";
import { type Me, findSignedIn, readNotice } from "./session.js";

/** An entry of `GET /v1/devices`. */
interface Device {
  id: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
  userAgent: string | null;
}

/**
 * The device list. It is `unavailable` when this server has no `GET /v1/devices` route (the
 * request gets 404), and `failed` when the request failed for another reason.
 */
type DeviceList = Device[] | "unavailable" | "failed";

export function registerProfilePages(app: Hono<AppEnv>, api: ApiClient): void {
  app.get("/", (c) => c.redirect("/profile", 303));

  app.get("/profile", async (c) => {
    const signedIn = await findSignedIn(c, api);
    if (!signedIn) return c.redirect("/sign-in", 303);

    const response = await api<{ devices: Device[] }>(c, "GET", "/v1/devices", {
      token: signedIn.token,
    });

    const devices: DeviceList =
      response.data?.devices ?? (response.status === 404 ? "unavailable" : "failed");
    return renderProfile(c, signedIn.me, devices, readNotice(c));
  });

  app.post("/profile/devices/:id/revoke", async (c) => {
    const signedIn = await findSignedIn(c, api);
    if (!signedIn) return c.redirect("/sign-in", 303);
    const id = c.req.param("id");

    const response = await api(c, "DELETE", `/v1/devices/${encodeURIComponent(id)}`, {
      token: signedIn.token,
    });

    const notice = response.status === 204 ? "device-revoked" : "device-not-found";
    return c.redirect(`/profile?notice=${notice}`, 303);
  });

  app.post("/sign-out", async (c) => {
    const signedIn = await findSignedIn(c, api);
    if (signedIn) await api(c, "POST", "/v1/logout", { token: signedIn.token });

    clearPageCookie(c, SESSION_COOKIE);
    return c.redirect("/sign-in?notice=signed-out", 303);
  });
}

function renderProfile(c: Context<AppEnv>, me: Me, devices: DeviceList, notice: string | null) {
  return renderPage(
    c,
    { title: "Your account" },
    <>
      <h1>Your account</h1>
      {notice && <Notice>{notice}</Notice>}
      <p>
        Signed in as <strong>{me.email}</strong>
        {me.organization && <>, a member of {me.organization.name}</>}.
      </p>
      <MfaSection me={me} />
      <DeviceSection devices={devices} />
      <section aria-labelledby="session-heading">
        <h2 id="session-heading">Session</h2>
        <ButtonForm action="/sign-out" label="Sign out" />
      </section>
    </>,
  );
}

function MfaSection({ me }: { me: Me }) {
  const enforcedBy = me.organization?.mfaEnforced ? me.organization.name : null;
  let status = me.mfaEnabled ? "On" : "Off";
  if (enforcedBy) status = "On, required by your organization";
  return (
    <section aria-labelledby="mfa-heading">
      <h2 id="mfa-heading">Two-step verification</h2>
      <p>
        Status: <strong id="mfa-status">{status}</strong>
      </p>
      <p class="hint">
        With two-step verification, signing in on a device you have not trusted asks for a code sent
        to your email after the password.
      </p>
      {enforcedBy && (
        <p id="mfa-enforced">
          {enforcedBy} requires two-step verification for its members, so it cannot be turned off
          here. Ask an administrator of {enforcedBy} if you need it changed.
        </p>
      )}
      {enforcedBy && !me.mfaEnabled && (
        <p class="hint">
          Your own setting is off. Enable it to keep two-step verification on even if {enforcedBy}{" "}
          stops requiring it.
        </p>
      )}
      {!me.mfaEnabled && (
        <a class="button primary" href="/profile/enable">
          Enable
        </a>
      )}
      {me.mfaEnabled && !enforcedBy && (
        <a class="button danger" href="/profile/disable">
          Disable
        </a>
      )}
    </section>
  );
}

function DeviceSection({ devices }: { devices: DeviceList }) {
  return (
    <section aria-labelledby="devices-heading">
      <h2 id="devices-heading">Trusted devices</h2>
      {devices === "unavailable" ? (
        <p id="devices-unavailable">This server does not list trusted devices.</p>
      ) : devices === "failed" ? (
        <p>The trusted devices could not be loaded. Reload the page to try again.</p>
      ) : devices.length === 0 ? (
        <p>
          No trusted devices. Tick "Remember this device" when you sign in with a code, and that
          browser skips the code until its trust expires.
        </p>
      ) : (
        <table class="devices">
          <caption class="hint">
            Each of these signs in without a code until its trust expires.
          </caption>
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">Trusted on</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span class="visually-hidden">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {devices.map((device) => (
              <DeviceRow device={device} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function DeviceRow({ device }: { device: Device }) {
  const name = describeUserAgent(device.userAgent);
  return (
    <tr>
      <th scope="row" title={device.userAgent ?? undefined}>
        {name}
      </th>
      <td>
        <Time iso={device.createdAt} style="date" />
      </td>
      <td>{device.lastUsedAt ? <Time iso={device.lastUsedAt} style="date" /> : "Never"}</td>
      <td>
        <Time iso={device.expiresAt} style="date" />
      </td>
      <td>
        <ButtonForm
          action={`/profile/devices/${encodeURIComponent(device.id)}/revoke`}
          label="Revoke"
          kind="danger"
          ariaLabel={`Revoke ${name}, trusted on ${device.createdAt.slice(0, 10)}`}
        />
      </td>
    </tr>
  );
}
