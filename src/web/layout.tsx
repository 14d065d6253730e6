/**
 * The page frame and the form parts every page shares. Pages load one stylesheet and one
 * deferred script from /assets and contain no inline script or style, so the
 * Content-Security-Policy can forbid both. Every form works without the script.
 */
import type { Context } from "hono";
import type { Child } from "hono/jsx";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../http/app.js";
import { type TimeStyle, formatUtc } from "./format.js";

export interface PageOptions {
  title: string;
  /** Puts `Error: ` before the title, so that a screen reader names the failure first. */
  failed?: boolean;
  /** The HTTP status; pages that show an API error take the API's status. */
  status?: number;
}

/** Renders a page inside the frame. */
export function renderPage(c: Context<AppEnv>, options: PageOptions, content: Child): Response {
  const { config, transport } = c.get("services");
  const developmentMailbox = !config.production && transport.name === "development";
  const title = `${options.failed ? "Error: " : ""}${options.title} · Email-code MFA`;
  const page = (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title}</title>
        <link rel="stylesheet" href="/assets/web.css" />
        <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
        <script src="/assets/web.js" defer />
      </head>
      <body>
        <header class="site">
          <a class="brand" href="/">
            Email-code MFA
          </a>
          {developmentMailbox && (
            <a class="development" href="/dev/mailbox">
              Development mailbox
            </a>
          )}
        </header>
        <main id="main">{content}</main>
      </body>
    </html>
  );
  return c.html(
    `<!doctype html>\n${String(page)}`,
    (options.status ?? 200) as ContentfulStatusCode,
  );
}

/**
 * Renders an error that screen readers announce (`role="alert"`) and that has focus when the
 * page loads. Keyboard users start from it, and the next Tab reaches the form below it.
 */
export function ErrorAlert({ children }: { children: Child }) {
  return (
    <div class="alert" id="form-error" role="alert" tabindex={-1} autofocus>
      {children}
    </div>
  );
}

/** Renders a confirmation after a redirect, such as "Two-step verification is on." */
export function Notice({ children }: { children: Child }) {
  return (
    <div class="notice" role="status">
      {children}
    </div>
  );
}

export interface FieldProps {
  id: string;
  label: string;
  type: "email" | "password" | "text";
  autocomplete: string;
  value?: string;
  hint?: string;
  /** Marks the input invalid and points it at the error above the form. */
  invalid?: boolean;
  autofocus?: boolean;
  /** Leaves out `required`, for filters. */
  optional?: boolean;
  inputmode?: "numeric" | "email";
  minlength?: number;
  maxlength?: number;
}

/** Renders a labelled input with an optional hint below the label. */
export function Field(props: FieldProps) {
  const hintId = props.hint ? `${props.id}-hint` : undefined;
  const describedBy = [hintId, props.invalid ? "form-error" : undefined].filter(Boolean).join(" ");
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.hint && (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      )}
      <input
        id={props.id}
        name={props.id}
        type={props.type}
        autocomplete={props.autocomplete}
        value={props.value}
        inputmode={props.inputmode}
        minlength={props.minlength}
        maxlength={props.maxlength}
        required={!props.optional}
        autofocus={props.autofocus}
        aria-invalid={props.invalid ? "true" : undefined}
        aria-describedby={describedBy || undefined}
      />
    </div>
  );
}

/** Renders a form with a single button that posts to `action`. */
export function ButtonForm(props: {
  action: string;
  label: string;
  kind?: "primary" | "secondary" | "danger";
  ariaLabel?: string;
}) {
  return (
    <form method="post" action={props.action} class="inline">
      <button type="submit" class={props.kind ?? "secondary"} aria-label={props.ariaLabel}>
        {props.label}
      </button>
    </form>
  );
}

/** Renders a time in UTC, which the page script rewrites in the reader's time zone. */
export function Time({ iso, style }: { iso: string; style: TimeStyle }) {
  return (
    <time datetime={iso} data-style={style}>
      {formatUtc(iso, style)}
    </time>
  );
}
