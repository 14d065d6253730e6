/** Mail contents: a plain-text and an HTML body for each template. */
import type { FlowPurpose } from "../../machines/index.js";

export interface MailContent {
  subject: string;
  text: string;
  html: string;
}

export type MailTemplate =
  | { template: "code"; purpose: FlowPurpose; code: string; validMinutes: number }
  | { template: "mfa_enabled" }
  | { template: "mfa_disabled" }
  | { template: "device_trusted"; userAgent: string | null; validDays: number }
  | { template: "mfa_reset" }
  | { template: "organization_enforcement"; organizationName: string; enforced: boolean }
  | { template: "sign_in_paused"; failures: number; pausedUntil: string }
  | { template: "sign_in_locked" };

const NOT_YOU =
  "If you did not ask for this, someone may know your password: change it and contact your administrator.";

const CODE_SUBJECTS: Record<FlowPurpose, string> = {
  login: "Your sign-in code",
  enrollment: "Your code to turn on two-step verification",
  disablement: "Your code to turn off two-step verification",
};

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function paragraphs(lines: string[]): string {
  return lines.map((line) => `<p>${escapeHtml(line)}</p>`).join("\n");
}

/** Renders a template into a subject, a plain-text body and an HTML body. */
export function renderMail(mail: MailTemplate): MailContent {
  switch (mail.template) {
    case "code": {
      const lines = [
        `Your security code is ${mail.code}.`,
        `It is valid for ${mail.validMinutes} minutes and can be used once.`,
        NOT_YOU,
      ];
      return {
        subject: CODE_SUBJECTS[mail.purpose],
        text: lines.join("\n\n"),
        html: `<p>Your security code is</p>\n<p style="font-size:24px;letter-spacing:4px"><strong>${escapeHtml(mail.code)}</strong></p>\n${paragraphs(lines.slice(1))}`,
      };
    }
    case "mfa_enabled":
      return notice("Two-step verification is on", [
        "Two-step verification is now on for your account. Each sign-in on a new device will ask for a code sent to this address.",
        "Your other sessions were signed out.",
        NOT_YOU,
      ]);
    case "mfa_disabled":
      return notice("Two-step verification is off", [
        "Two-step verification is now off for your account, and your remembered devices were forgotten.",
        "Your other sessions were signed out.",
        NOT_YOU,
      ]);
    case "device_trusted":
      return notice("A device was remembered", [
        `A device (${mail.userAgent ?? "unknown browser"}) will sign in without a code for ${mail.validDays} days.`,
        "You can forget it from your device list at any time.",
        NOT_YOU,
      ]);
    case "mfa_reset":
      return notice("Two-step verification was reset", [
        "An administrator turned off two-step verification for your account, forgot your remembered devices and signed out your sessions.",
        "Sign in and turn it on again with your current mailbox.",
        NOT_YOU,
      ]);
    case "organization_enforcement":
      return notice(
        mail.enforced
          ? `${mail.organizationName} now requires two-step verification`
          : `${mail.organizationName} no longer requires two-step verification`,
        [
          mail.enforced
            ? `${mail.organizationName} now requires a code sent to this address at each sign-in on a device that is not remembered.`
            : `${mail.organizationName} no longer requires a code at sign-in. Your own setting applies again.`,
        ],
      );
    case "sign_in_paused":
      return notice("Sign-in to your account is paused", [
        `After ${mail.failures} failed sign-in attempts in a row, sign-in for this address is paused until ${mail.pausedUntil} (UTC).`,
        "A device that you asked us to remember can still sign in.",
        NOT_YOU,
      ]);
    case "sign_in_locked":
      return notice("A sign-in with your password was stopped", [
        "Someone entered your password correctly, then too many wrong security codes, so that sign-in was stopped.",
        NOT_YOU,
      ]);
  }
}

function notice(subject: string, lines: string[]): MailContent {
  return { subject, text: lines.join("\n\n"), html: paragraphs(lines) };
}
