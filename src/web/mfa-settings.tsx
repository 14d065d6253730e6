/**
 * Enabling and disabling two-step verification from the profile page: the password, then
 * the code when the API requests one. Enabling always requests a code. Disabling requests
 * one unless the session is recently verified, that is, it signed in with a code a short time ago.
 */
import type { Context, Hono } from "hono";
import type { FlowView } from "../flows/view.js";
import type { AppEnv } from "../http/app.js";
import { type ApiClient, type ApiResponse, readFlow, sendFlowEvent } from "./api-client.js";
import { CodeStep } from "./code-step.js";
import { SETTINGS_FLOW_COOKIE, clearPageCookie, readPageCookie, setPageCookie } from "./cookies.js";
import { ErrorAlert, Field, renderPage } from "./layout.js";
import { type Failure, describeCode, describeFailure, describeFinishedFlow } from "./messages.js";
import { type SignedIn, findSignedIn, readForm, readNotice } from "./session.js";

type Change = "enable" | "disable";

const CHANGES = {
  enable: {
    kind: "enrollment",
    title: "Enable two-step verification",
    doneState: "enabled",
    doneNotice: "mfa-on",
  },
  disable: {
    kind: "disablement",
    title: "Disable two-step verification",
    doneState: "disabled",
    doneNotice: "mfa-off",
  },
} as const;

export function registerMfaSettingsPages(app: Hono<AppEnv>, api: ApiClient): void {
  app.get("/profile/:change{enable|disable}", async (c) => {
    const change = c.req.param("change") as Change;
    const signedIn = await findSignedIn(c, api);
    if (!signedIn) return c.redirect("/sign-in", 303);
    if (isAlreadyDone(change, signedIn)) return c.redirect("/profile", 303);

    // The API would reject the disablement, so the page explains instead of asking for the password.
    const enforced = change === "disable" && signedIn.me.organization?.mfaEnforced === true;
    const options = { subject: "change" as const, now: c.get("services").now() };
    const failure = enforced ? describeCode("mfa_enforced_by_organization", options) : null;
    return renderPassword(c, change, signedIn, failure, enforced ? 403 : 200);
  });

  app.post("/profile/:change{enable|disable}", async (c) => {
    const change = c.req.param("change") as Change;
    const signedIn = await findSignedIn(c, api);
    if (!signedIn) return c.redirect("/sign-in", 303);
    const { password = "" } = await readForm(c);

    const flow = await findOrCreateFlow(c, api, change, signedIn.token);
    if (!flow.data) {
      return renderPassword(c, change, signedIn, fail(c, flow, PASSWORD_INVALID), flow.status);
    }
    const event = { type: "SUBMIT_PASSWORD", password };
    const result = await sendFlowEvent(api, c, flow.data.id, event, signedIn.token);

    if (result.data) return continueAfter(c, change, result.data);
    const failure = fail(c, result, PASSWORD_INVALID);
    if (failure.finished) clearPageCookie(c, SETTINGS_FLOW_COOKIE);
    else setPageCookie(c, SETTINGS_FLOW_COOKIE, flow.data.id, flow.data.expiresAt);
    return renderPassword(c, change, signedIn, failure, result.status);
  });

  app.get("/profile/:change{enable|disable}/code", async (c) => {
    const change = c.req.param("change") as Change;
    const signedIn = await findSignedIn(c, api);
    if (!signedIn) return c.redirect("/sign-in", 303);

    const flow = await readOwnFlow(c, api, change, signedIn.token);

    if (!flow || flow.state === "awaitingPassword") return c.redirect(`/profile/${change}`, 303);
    if (flow.state === CHANGES[change].doneState) return continueAfter(c, change, flow);
    const failure = describeFinishedFlow(flow, { subject: "change", now: c.get("services").now() });
    if (failure) clearPageCookie(c, SETTINGS_FLOW_COOKIE);
    return renderCode(c, change, flow, failure, readNotice(c));
  });

  app.post("/profile/:change{enable|disable}/code", async (c) => {
    const change = c.req.param("change") as Change;
    const signedIn = await findSignedIn(c, api);
    if (!signedIn) return c.redirect("/sign-in", 303);
    const flowId = readPageCookie(c, SETTINGS_FLOW_COOKIE);
    if (!flowId) return c.redirect(`/profile/${change}`, 303);
    const form = await readForm(c);
    const code = (form.code ?? "").replace(/[\s-]/g, "");

    const result = await sendFlowEvent(
      api,
      c,
      flowId,
      { type: "SUBMIT_CODE", code },
      signedIn.token,
    );

    if (result.data) return continueAfter(c, change, result.data);
    return renderCodeFailure(c, api, change, signedIn.token, result);
  });

  app.post("/profile/:change{enable|disable}/resend", async (c) => {
    const change = c.req.param("change") as Change;
    const signedIn = await findSignedIn(c, api);
    if (!signedIn) return c.redirect("/sign-in", 303);
    const flowId = readPageCookie(c, SETTINGS_FLOW_COOKIE);
    if (!flowId) return c.redirect(`/profile/${change}`, 303);

    const result = await sendFlowEvent(api, c, flowId, { type: "RESEND_CODE" }, signedIn.token);

    if (result.data) return c.redirect(`/profile/${change}/code?notice=code-sent`, 303);
    return renderCodeFailure(c, api, change, signedIn.token, result);
  });

  app.post("/profile/:change{enable|disable}/cancel", async (c) => {
    const signedIn = await findSignedIn(c, api);
    const flowId = readPageCookie(c, SETTINGS_FLOW_COOKIE);
    // The API rejects CANCEL for a flow that has already ended (409 or 410), which is harmless here.
    if (signedIn && flowId) await sendFlowEvent(api, c, flowId, { type: "CANCEL" }, signedIn.token);

    clearPageCookie(c, SETTINGS_FLOW_COOKIE);
    return c.redirect("/profile", 303);
  });
}

function isAlreadyDone(change: Change, { me }: SignedIn): boolean {
  return change === "enable" ? me.mfaEnabled : !me.mfaEnabled;
}

/** Reads the flow named by the cookie when it is this change's kind and still the reader's. */
async function readOwnFlow(c: Context<AppEnv>, api: ApiClient, change: Change, token: string) {
  const flowId = readPageCookie(c, SETTINGS_FLOW_COOKIE);
  if (!flowId) return null;
  const flow = await readFlow(api, c, flowId, token);
  if (flow.data?.kind === CHANGES[change].kind) return flow.data;
  clearPageCookie(c, SETTINGS_FLOW_COOKIE);
  return null;
}

/**
 * Continues the flow waiting for a password, so that wrong passwords count against one
 * flow's attempts, or creates a new one.
 */
async function findOrCreateFlow(
  c: Context<AppEnv>,
  api: ApiClient,
  change: Change,
  token: string,
): Promise<ApiResponse<FlowView>> {
  const current = await readOwnFlow(c, api, change, token);
  if (current?.state === "awaitingPassword") {
    return { status: 200, headers: new Headers(), data: current };
  }
  return api<FlowView>(c, "POST", "/v1/flows", { token, body: { kind: CHANGES[change].kind } });
}

/** Goes to the code page, or back to the profile once the change is done. */
function continueAfter(c: Context<AppEnv>, change: Change, flow: FlowView) {
  if (flow.state === CHANGES[change].doneState) {
    clearPageCookie(c, SETTINGS_FLOW_COOKIE);
    return c.redirect(`/profile?notice=${CHANGES[change].doneNotice}`, 303);
  }
  setPageCookie(c, SETTINGS_FLOW_COOKIE, flow.id, flow.expiresAt);
  return c.redirect(`/profile/${change}/code`, 303);
}

const PASSWORD_INVALID = "Enter your password.";
const CODE_INVALID = "Enter the 6 digits of the code from the email.";

function fail(c: Context<AppEnv>, response: ApiResponse<unknown>, invalidRequest: string): Failure {
  return describeFailure(response, {
    subject: "change",
    now: c.get("services").now(),
    invalidRequest,
  });
}

async function renderCodeFailure(
  c: Context<AppEnv>,
  api: ApiClient,
  change: Change,
  token: string,
  result: ApiResponse<FlowView>,
) {
  const failure = fail(c, result, CODE_INVALID);
  const flow = result.flow ?? (await readOwnFlow(c, api, change, token));
  if (failure.finished || !flow || flow.status !== "active") {
    clearPageCookie(c, SETTINGS_FLOW_COOKIE);
  }
  if (!flow) return c.redirect(`/profile/${change}`, 303);
  return renderCode(c, change, flow, failure, null, result.status);
}

function renderCode(
  c: Context<AppEnv>,
  change: Change,
  flow: FlowView,
  failure: Failure | null,
  notice: string | null,
  status = 200,
) {
  const { config, transport } = c.get("services");
  return renderPage(
    c,
    { title: CHANGES[change].title, failed: Boolean(failure), status },
    <CodeStep
      title={CHANGES[change].title}
      flow={flow}
      actions={{
        submit: `/profile/${change}/code`,
        resend: `/profile/${change}/resend`,
        restart: `/profile/${change}/cancel`,
      }}
      restartLabel="Cancel"
      failure={failure}
      notice={notice}
      now={c.get("services").now()}
      showMailboxLink={!config.production && transport.name === "development"}
    />,
  );
}

function renderPassword(
  c: Context<AppEnv>,
  change: Change,
  signedIn: SignedIn,
  failure: Failure | null,
  status = 200,
) {
  const minutes = Math.round(c.get("services").config.recentVerificationMs / 60_000);
  const intro =
    change === "enable"
      ? `Enter your password. A code is then sent to ${signedIn.me.email}, to check that you receive it.`
      : `Enter your password. Unless you signed in with a code in the last ${minutes} minutes, a code is then sent to ${signedIn.me.email}.`;
  return renderPage(
    c,
    { title: CHANGES[change].title, failed: Boolean(failure), status },
    <>
      <h1>{CHANGES[change].title}</h1>
      {failure && (
        <ErrorAlert>
          <p>{failure.message}</p>
        </ErrorAlert>
      )}
      {failure?.finished ? (
        <p>
          <a href="/profile">Back to your account</a>
        </p>
      ) : (
        <>
          <p>{intro}</p>
          <form method="post" action={`/profile/${change}`} class="stack">
            <Field
              id="password"
              label="Password"
              type="password"
              autocomplete="current-password"
              invalid={failure?.code === "invalid_password"}
              autofocus={!failure}
            />
            <div class="actions">
              <button type="submit" class="primary">
                Continue
              </button>
              <a class="button secondary" href="/profile">
                Cancel
              </a>
            </div>
          </form>
        </>
      )}
    </>,
  );
}
