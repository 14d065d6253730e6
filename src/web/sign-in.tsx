/**
 * Sign-in pages: email and password, then the code page when a code is required. Each
 * submission of the password form starts a new login flow. The flow id is that flow's only
 * credential, so it stays in an HttpOnly cookie, never in the address, until the code is accepted.
 */
import type { Context, Hono } from "hono";
import type { FlowView } from "../flows/view.js";
import type { AppEnv } from "../http/app.js";
import { type ApiClient, type ApiResponse, readFlow, sendFlowEvent } from "./api-client.js";
import { CodeStep } from "./code-step.js";
import { LOGIN_FLOW_COOKIE, clearPageCookie, readPageCookie, setPageCookie } from "./cookies.js";
import { ErrorAlert, Field, Notice, renderPage } from "./layout.js";
import { type Failure, describeFailure, describeFinishedFlow } from "./messages.js";
import { findSignedIn, readForm, readNotice, startSession } from "./session.js";

const ACTIONS = { submit: "/sign-in/code", resend: "/sign-in/resend", restart: "/sign-in/cancel" };
const DAY_MS = 24 * 60 * 60 * 1000;

export function registerSignInPages(app: Hono<AppEnv>, api: ApiClient): void {
  app.get("/sign-in", async (c) => {
    if (await findSignedIn(c, api)) return c.redirect("/profile", 303);

    return renderCredentials(c, { notice: readNotice(c) });
  });

  app.post("/sign-in", async (c) => {
    const form = await readForm(c);
    const email = form.email?.trim() ?? "";
    const password = form.password ?? "";

    const created = await api<FlowView>(c, "POST", "/v1/flows", { body: { kind: "login" } });
    if (!created.data) return renderCredentialsFailure(c, email, created);
    const flow = await sendFlowEvent(api, c, created.data.id, {
      type: "SUBMIT_CREDENTIALS",
      email,
      password,
    });

    if (!flow.data) return renderCredentialsFailure(c, email, flow);
    if (flow.data.output) {
      startSession(c, flow, flow.data.output);
      return c.redirect("/profile", 303);
    }
    setPageCookie(c, LOGIN_FLOW_COOKIE, flow.data.id, flow.data.expiresAt);
    return c.redirect("/sign-in/code", 303);
  });

  app.get("/sign-in/code", async (c) => {
    const flowId = readPageCookie(c, LOGIN_FLOW_COOKIE);
    if (!flowId) return c.redirect("/sign-in", 303);

    const flow = await readFlow(api, c, flowId);

    if (
      !flow.data ||
      flow.data.state === "awaitingCredentials" ||
      flow.data.state === "authenticated"
    ) {
      clearPageCookie(c, LOGIN_FLOW_COOKIE);
      return c.redirect("/sign-in", 303);
    }
    return renderCode(c, flow.data, {
      notice: readNotice(c),
      failure: describeFinishedFlow(flow.data, {
        subject: "sign-in",
        now: c.get("services").now(),
      }),
    });
  });

  app.post("/sign-in/code", async (c) => {
    const flowId = readPageCookie(c, LOGIN_FLOW_COOKIE);
    if (!flowId) return c.redirect("/sign-in", 303);
    const form = await readForm(c);
    // People and password managers paste codes as "123 456" or "123-456".
    const code = (form.code ?? "").replace(/[\s-]/g, "");
    const rememberDevice = form.rememberDevice === "on";

    const flow = await sendFlowEvent(api, c, flowId, { type: "SUBMIT_CODE", code, rememberDevice });

    if (flow.data?.output) {
      startSession(c, flow, flow.data.output);
      return c.redirect("/profile", 303);
    }
    return renderCodeFailure(c, api, flowId, fail(c, flow, CODE_INVALID), flow.flow, flow.status);
  });

  app.post("/sign-in/resend", async (c) => {
    const flowId = readPageCookie(c, LOGIN_FLOW_COOKIE);
    if (!flowId) return c.redirect("/sign-in", 303);

    const flow = await sendFlowEvent(api, c, flowId, { type: "RESEND_CODE" });

    if (flow.data) return c.redirect("/sign-in/code?notice=code-sent", 303);
    return renderCodeFailure(c, api, flowId, fail(c, flow, CODE_INVALID), flow.flow, flow.status);
  });

  app.post("/sign-in/cancel", async (c) => {
    const flowId = readPageCookie(c, LOGIN_FLOW_COOKIE);
    // The API rejects CANCEL for a flow that has already ended (409 or 410), which is harmless here.
    if (flowId) await sendFlowEvent(api, c, flowId, { type: "CANCEL" });

    clearPageCookie(c, LOGIN_FLOW_COOKIE);
    return c.redirect("/sign-in", 303);
  });
}

const CREDENTIALS_INVALID = "Enter your email address and your password.";
const CODE_INVALID = "Enter the 6 digits of the code from the email.";

function fail(c: Context<AppEnv>, response: ApiResponse<unknown>, invalidRequest: string): Failure {
  return describeFailure(response, {
    subject: "sign-in",
    now: c.get("services").now(),
    invalidRequest,
  });
}

async function renderCodeFailure(
  c: Context<AppEnv>,
  api: ApiClient,
  flowId: string,
  failure: Failure,
  flow: FlowView | undefined,
  status: number,
) {
  const current = flow ?? (await readFlow(api, c, flowId)).data;
  if (failure.finished || !current || current.status !== "active") {
    clearPageCookie(c, LOGIN_FLOW_COOKIE);
  }
  if (!current) return c.redirect("/sign-in", 303);
  return renderCode(c, current, { failure }, status);
}

function renderCode(
  c: Context<AppEnv>,
  flow: FlowView,
  options: { failure?: Failure | null; notice?: string | null },
  status = 200,
) {
  const { config, transport } = c.get("services");
  return renderPage(
    c,
    { title: "Enter your code", failed: Boolean(options.failure), status },
    <CodeStep
      title="Enter your code"
      flow={flow}
      actions={ACTIONS}
      rememberDays={Math.round(config.deviceTrustTtlMs / DAY_MS)}
      failure={options.failure}
      notice={options.notice}
      now={c.get("services").now()}
      showMailboxLink={!config.production && transport.name === "development"}
    />,
  );
}

function renderCredentialsFailure(
  c: Context<AppEnv>,
  email: string,
  response: ApiResponse<unknown>,
) {
  const failure = fail(c, response, CREDENTIALS_INVALID);
  return renderCredentials(c, { email, failure }, response.status);
}

function renderCredentials(
  c: Context<AppEnv>,
  options: { email?: string; failure?: Failure; notice?: string | null },
  status = 200,
) {
  const { failure } = options;
  const registrationOpen = c.get("services").config.registration === "open";
  return renderPage(
    c,
    { title: "Sign in", failed: Boolean(failure), status },
    <>
      <h1>Sign in</h1>
      {failure && (
        <ErrorAlert>
          <p>{failure.message}</p>
        </ErrorAlert>
      )}
      {options.notice && !failure && <Notice>{options.notice}</Notice>}
      <form method="post" action="/sign-in" class="stack">
        <Field
          id="email"
          label="Email"
          type="email"
          autocomplete="username"
          value={options.email}
          invalid={Boolean(failure)}
          autofocus={!failure && !options.email}
        />
        <Field
          id="password"
          label="Password"
          type="password"
          autocomplete="current-password"
          invalid={Boolean(failure)}
        />
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
      {registrationOpen && (
        <p>
          No account yet? <a href="/register">Create an account</a>.
        </p>
      )}
    </>,
  );
}
