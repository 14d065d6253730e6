/** What the pages tell the reader for each error code of the API, and the pages that show it. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiResponse } from "../../src/web/api-client.js";
import { describeFailure } from "../../src/web/messages.js";
import { PASSWORD, type TestApp, createTestApp, readCode } from "../support/app.js";
import { MINUTE } from "../support/clock.js";
import { registerWithMfa } from "../support/flows.js";

const NOW = new Date("2026-01-05T09:00:00.000Z");

function failed(
  code: string,
  extra: { attemptsRemaining?: number; retryAfter?: number } = {},
): ApiResponse<unknown> {
  const headers = new Headers();
  if (extra.retryAfter !== undefined) headers.set("retry-after", String(extra.retryAfter));
  return {
    status: 422,
    headers,
    error: { code, message: "ignored", attemptsRemaining: extra.attemptsRemaining },
  };
}

describe("error messages", () => {
  const cases: [string, ApiResponse<unknown>, string, boolean][] = [
    [
      "invalid_code",
      failed("invalid_code", { attemptsRemaining: 4 }),
      "The code is incorrect. 4 attempts left.",
      false,
    ],
    [
      "invalid_code, last",
      failed("invalid_code", { attemptsRemaining: 1 }),
      "The code is incorrect. 1 attempt left.",
      false,
    ],
    [
      "invalid_password",
      failed("invalid_password", { attemptsRemaining: 2 }),
      "The password is incorrect. 2 attempts left.",
      false,
    ],
    [
      "code_expired",
      failed("code_expired"),
      "This code has expired. Send a new code, then enter it.",
      false,
    ],
    [
      "too_many_attempts",
      failed("too_many_attempts"),
      "Too many wrong attempts, so this sign-in is locked. Start again.",
      true,
    ],
    [
      "too_many_failures",
      failed("too_many_failures", { retryAfter: 15 * 60 }),
      "Sign-in for this email address is paused after repeated failures. Try again after 5 Jan 2026, 09:15 UTC.",
      false,
    ],
    [
      "resend_too_soon",
      failed("resend_too_soon", { retryAfter: 42 }),
      "You can ask for a new code in 42 seconds.",
      false,
    ],
    [
      "resend_limit_reached",
      failed("resend_limit_reached"),
      "No more codes can be sent for this sign-in. Start again.",
      true,
    ],
    ["flow_expired", failed("flow_expired"), "This sign-in has expired. Start again.", true],
    [
      "flow_finished",
      failed("flow_finished"),
      "This sign-in has already ended. Start again.",
      true,
    ],
    [
      "rate_limited",
      failed("rate_limited", { retryAfter: 1 }),
      "Too many requests from your network. Try again in 1 second.",
      false,
    ],
    [
      "invalid_credentials",
      failed("invalid_credentials", { attemptsRemaining: 3 }),
      "The email or password is incorrect.",
      false,
    ],
  ];

  for (const [name, response, message, finished] of cases) {
    it(`describes ${name}`, () => {
      const failure = describeFailure(response, { subject: "sign-in", now: NOW });

      expect(failure.message).toBe(message);
      expect(failure.finished).toBe(finished);
    });
  }

  it("names a change instead of a sign-in", () => {
    const failure = describeFailure(failed("too_many_attempts"), { subject: "change", now: NOW });

    expect(failure.message).toBe("Too many wrong attempts, so this change is locked. Start again.");
  });

  it("uses the form's own message for invalid_request", () => {
    const failure = describeFailure(failed("invalid_request"), {
      subject: "sign-in",
      now: NOW,
      invalidRequest: "Enter the 6 digits.",
    });

    expect(failure.message).toBe("Enter the 6 digits.");
  });
});

describe("code page", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp({ env: { RATE_LIMIT_PER_MINUTE: "0" } });
  });
  afterAll(() => app.close());

  const SAME_ORIGIN = { origin: "http://localhost", "sec-fetch-site": "same-origin" };

  async function startSignIn(): Promise<{ flowCookie: string; email: string }> {
    const user = await registerWithMfa(app);
    const response = await app.app.request("/sign-in", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...SAME_ORIGIN },
      body: new URLSearchParams({ email: user.email, password: PASSWORD }).toString(),
    });
    expect(response.status, await response.text()).toBe(303);
    const cookie = response.headers
      .getSetCookie()
      .find((value) => value.startsWith("mfa_login_flow="));
    return { flowCookie: cookie!.split(";")[0]!, email: user.email };
  }

  function post(path: string, cookie: string, fields: Record<string, string> = {}) {
    return app.app.request(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie, ...SAME_ORIGIN },
      body: new URLSearchParams(fields).toString(),
    });
  }

  it("announces an expired code", async () => {
    const { flowCookie } = await startSignIn();
    app.clock.advance(10 * MINUTE);

    const response = await post("/sign-in/code", flowCookie, { code: "123456" });

    const html = await response.text();
    expect(response.status, html).toBe(422);
    expect(html).toContain('role="alert"');
    expect(html).toContain("This code has expired. Send a new code, then enter it.");
  });

  it("offers to start again once the flow is locked", async () => {
    const { flowCookie, email } = await startSignIn();
    const code = await readCode(app, email);
    const wrong = code === "000000" ? "111111" : "000000";
    let response: Response | undefined;

    for (let attempt = 0; attempt < 5; attempt += 1) {
      response = await post("/sign-in/code", flowCookie, { code: wrong });
    }

    const html = await response!.text();
    expect(response!.status, html).toBe(423);
    expect(html).toContain("Too many wrong attempts, so this sign-in is locked. Start again.");
    expect(html).toContain('action="/sign-in/cancel"');
    expect(html).not.toContain('id="code"');
    const cleared = response!.headers
      .getSetCookie()
      .find((value) => value.startsWith("mfa_login_flow="));
    expect(cleared).toContain("Max-Age=0");
  });

  it("says when a new code can be sent", async () => {
    const { flowCookie } = await startSignIn();

    const early = await post("/sign-in/resend", flowCookie);
    const html = await early.text();
    expect(early.status, html).toBe(429);
    expect(html).toContain("You can ask for a new code in 60 seconds.");

    const page = await app.app.request("/sign-in/code", { headers: { cookie: flowCookie } });
    const text = await page.text();
    expect(text).toContain("You can ask for a new code from");
    expect(text).toContain('data-wait-seconds="60"');
  });

  it("asks for the six digits when the code is not a number", async () => {
    const { flowCookie } = await startSignIn();

    const response = await post("/sign-in/code", flowCookie, { code: "12ab56" });

    const html = await response.text();
    expect(response.status, html).toBe(400);
    expect(html).toContain("Enter the 6 digits of the code from the email.");
  });
});
