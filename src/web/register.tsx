/** The registration page. A new account has MFA off, so it is signed in with the password alone. */
import type { Context, Hono } from "hono";
import type { FlowView } from "../flows/view.js";
import type { AppEnv } from "../http/app.js";
import { type ApiClient, sendFlowEvent } from "./api-client.js";
import { ErrorAlert, Field, renderPage } from "./layout.js";
import { type Failure, describeFailure } from "./messages.js";
import { findSignedIn, readForm, startSession } from "./session.js";

export function registerRegistrationPages(app: Hono<AppEnv>, api: ApiClient): void {
  app.get("/register", async (c) => {
    if (await findSignedIn(c, api)) return c.redirect("/profile", 303);

    return renderRegistration(c, {});
  });

  app.post("/register", async (c) => {
    const form = await readForm(c);
    const email = form.email?.trim() ?? "";
    const password = form.password ?? "";

    const user = await api(c, "POST", "/v1/users", { body: { email, password } });
    if (user.status === 404) return renderRegistration(c, {}, 404);
    if (!user.data) return renderRegistration(c, { email, failure: fail(c, user) }, user.status);

    // Sign the new account in, as a client of the login flow like any other.
    const flow = await api<FlowView>(c, "POST", "/v1/flows", { body: { kind: "login" } });
    const signedIn = flow.data
      ? await sendFlowEvent(api, c, flow.data.id, { type: "SUBMIT_CREDENTIALS", email, password })
      : flow;
    if (signedIn.data?.output) {
      startSession(c, signedIn, signedIn.data.output);
      return c.redirect("/profile", 303);
    }
    return c.redirect("/sign-in", 303);
  });
}

function fail(c: Context<AppEnv>, response: Parameters<typeof describeFailure>[0]): Failure {
  return describeFailure(response, {
    subject: "sign-in",
    now: c.get("services").now(),
    invalidRequest: "Enter a valid email address and a password of 8 to 128 characters.",
  });
}

function renderRegistration(
  c: Context<AppEnv>,
  options: { email?: string; failure?: Failure },
  status = 200,
) {
  const { failure } = options;
  if (c.get("services").config.registration === "closed") {
    return renderPage(
      c,
      { title: "Registration is closed", status: 404 },
      <>
        <h1>Registration is closed</h1>
        <p>Accounts on this service are created by an administrator. Ask yours for one.</p>
        <p>
          <a href="/sign-in">Sign in</a>
        </p>
      </>,
    );
  }
  return renderPage(
    c,
    { title: "Create an account", failed: Boolean(failure), status },
    <>
      <h1>Create an account</h1>
      {failure && (
        <ErrorAlert>
          <p>{failure.message}</p>
          {failure.code === "email_taken" && (
            <p>
              <a href="/sign-in">Sign in</a>
            </p>
          )}
        </ErrorAlert>
      )}
      <form method="post" action="/register" class="stack">
        <Field
          id="email"
          label="Email"
          type="email"
          autocomplete="username"
          value={options.email}
          invalid={Boolean(failure)}
          autofocus={!failure}
        />
        <Field
          id="password"
          label="Password"
          hint="8 to 128 characters. A few unrelated words make a strong password."
          type="password"
          autocomplete="new-password"
          minlength={8}
          maxlength={128}
          invalid={failure?.code === "invalid_request"}
        />
        <button type="submit" class="primary">
          Create account
        </button>
      </form>
      <p>
        Already have an account? <a href="/sign-in">Sign in</a>.
      </p>
    </>,
  );
}
