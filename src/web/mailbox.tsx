/**
 * The development mailbox page: the mails of `GET /v1/dev/mailbox`, codes included, so that
 * a newcomer reads codes in the browser. Mounted outside production only, like the route.
 */
import type { Hono } from "hono";
import type { AppEnv } from "../http/app.js";
import type { ApiClient } from "./api-client.js";
import { Field, Time, renderPage } from "./layout.js";

interface Mail {
  id: string;
  to: string;
  subject: string;
  text: string;
  sentAt: string;
}

export function registerMailboxPage(app: Hono<AppEnv>, api: ApiClient): void {
  app.get("/dev/mailbox", async (c) => {
    const to = c.req.query("to")?.trim() ?? "";
    const query = to ? `?to=${encodeURIComponent(to)}` : "";

    const response = await api<{ messages: Mail[] }>(c, "GET", `/v1/dev/mailbox${query}`);

    const messages = response.data?.messages;
    return renderPage(
      c,
      { title: "Development mailbox", status: response.status },
      <>
        <h1>Development mailbox</h1>
        <p>
          Without <code>RESEND_API_KEY</code>, the service keeps its mail here instead of sending
          it. Newest first; the 50 newest are shown.
        </p>
        <form method="get" action="/dev/mailbox" class="filter">
          <Field id="to" label="Show mail to" type="email" autocomplete="off" value={to} optional />
          <div class="actions">
            <button type="submit" class="secondary">
              Filter
            </button>
            <a class="button secondary" href="/dev/mailbox">
              Show all
            </a>
          </div>
        </form>
        {!messages ? (
          <p id="mailbox-unavailable">
            The development mailbox is off because RESEND_API_KEY is set.
          </p>
        ) : messages.length === 0 ? (
          <p>No mail{to ? ` to ${to}` : ""} yet.</p>
        ) : (
          <ol class="mails">
            {messages.map((mail) => (
              <li>
                <article class="mail" aria-labelledby={`mail-${mail.id}`}>
                  <h2 id={`mail-${mail.id}`}>{mail.subject}</h2>
                  <p class="hint">
                    To {mail.to}, <Time iso={mail.sentAt} style="datetime" />
                  </p>
                  <pre>{mail.text}</pre>
                </article>
              </li>
            ))}
          </ol>
        )}
      </>,
    );
  });
}
