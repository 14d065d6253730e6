/** Mail transports: Resend for real delivery, and a development mailbox kept in the database. */
import { Resend } from "resend";
import type { Database } from "../../db/client.js";
import { devMailbox } from "../../db/schema.js";
import { createId } from "../crypto.js";
import type { MailContent } from "./templates.js";

export interface OutgoingMail extends MailContent {
  from: string;
  to: string;
}

export type SendResult =
  | { ok: true; providerMessageId: string | null }
  | { ok: false; retryable: boolean; error: string };

export interface MailTransport {
  name: "resend" | "development";
  /** Sends one mail. Resend delivers a retry with the same key once, within 24 hours. */
  send(mail: OutgoingMail, idempotencyKey: string): Promise<SendResult>;
}

export interface ResendOptions {
  /** Without it the SDK reads `RESEND_BASE_URL`, then uses Resend's own address. */
  baseUrl?: string;
  /** How long one request may take before it is aborted and retried later. */
  timeoutMs?: number;
}

/** Creates the Resend transport. */
export function createResendTransport(apiKey: string, options: ResendOptions = {}): MailTransport {
  const resend = new Resend(apiKey, options.baseUrl ? { baseUrl: options.baseUrl } : undefined);
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    name: "resend",
    async send(mail, idempotencyKey) {
      // The SDK hands the signal to fetch, so a timeout closes the connection instead of
      // leaving it open. Resend may still have accepted the mail: the retry carries the same
      // idempotency key, and Resend returns the first mail for it instead of sending again.
      const signal = AbortSignal.timeout(timeoutMs);
      const result = await resend.emails.send(
        { from: mail.from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html },
        { idempotencyKey, signal },
      );
      if (result.error && signal.aborted) {
        return { ok: false, retryable: true, error: `timed out after ${timeoutMs} ms` };
      }
      if (result.error) {
        const status = (result.error as { statusCode?: number | null }).statusCode ?? null;
        // Network failures (no status), rate limits and provider errors pass; the rest will not.
        const retryable = status === null || status === 429 || status >= 500;
        return {
          ok: false,
          retryable,
          error: `${result.error.name} (${status ?? "no status"}): ${result.error.message}`,
        };
      }
      return { ok: true, providerMessageId: result.data?.id ?? null };
    },
  };
}

/**
 * Creates the development transport, which stores mails as sent so that `/v1/dev/mailbox`
 * can show them. It keeps codes in clear and exists for local use only.
 */
export function createDevelopmentTransport(db: Database): MailTransport {
  return {
    name: "development",
    async send(mail) {
      const id = createId();
      await db.insert(devMailbox).values({
        id,
        recipient: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
      });
      return { ok: true, providerMessageId: id };
    },
  };
}
