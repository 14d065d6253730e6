/** Carries out the intents that a machine emitted, inside the event's transaction. */
import { eq } from "drizzle-orm";
import type { FlowIntent, FlowKind } from "../../machines/index.js";
import type { Transaction } from "../../db/client.js";
import { users } from "../../db/schema.js";
import { recordAudit } from "../audit.js";
import type { Config } from "../config.js";
import type { SecretKeys } from "../crypto.js";
import { type IssuedDeviceTrust, createDeviceTrust, markDeviceTrustUsed, revokeDeviceTrusts } from "../device-trusts.js";
import { dropPendingCodeMails, queueMail } from "../mail/outbox.js";
import { type IssuedSession, type UserRow, createSession, revokeUserSessions } from "../sessions.js";
import type { LoginOutput } from "./view.js";

export interface IntentContext {
  intents: FlowIntent[];
  flowId: string;
  kind: FlowKind;
  userId: string | null;
  /** Reads the flow's user in this transaction, for the mail address; called only to mail. */
  loadUser: () => Promise<UserRow | null>;
  /** The session that sent the event; it survives the intents that end other sessions. */
  sessionId: string | null;
  /** The device trust that let this sign-in skip the code. */
  trustId: string | null;
  userAgent: string | null;
  /** Whether the flow issued a code before this event, so that a code mail may be pending. */
  codeIssuedBefore: boolean;
  codeTtlMinutes: number;
  now: Date;
  config: Config;
  keys: SecretKeys;
}

export interface AppliedIntents {
  output?: LoginOutput;
  deviceTrust?: { token: string; expiresAt: Date };
  mailQueued: boolean;
}

/**
 * Applies each intent in order; mail goes to the outbox, never out directly. The writes read
 * nothing that another write of the same event produces, so they are sent together and share
 * one round trip; PostgreSQL still runs them in the order they were sent.
 */
export async function applyIntents(tx: Transaction, context: IntentContext): Promise<AppliedIntents> {
  const { config, flowId, keys, now, userId } = context;
  const applied: AppliedIntents = { mailQueued: false };
  const writes: Promise<unknown>[] = [];
  const send = <T>(write: PromiseLike<T>): Promise<T> => {
    const started = Promise.resolve(write);
    // Promise.all below reports the first failure; the others must not go unhandled meanwhile.
    started.catch(() => {});
    writes.push(started);
    return started;
  };
  const audit = (type: string, details?: Record<string, unknown>) =>
    send(recordAudit(tx, { actor: "user", type, userId, flowId, details }));
  const mail = (template: Parameters<typeof queueMail>[2]["mail"]) =>
    send(
      (async () => {
        const user = await context.loadUser();
        if (!user) return;
        await queueMail(tx, keys.outboxKey, { recipient: user.email, mail: template, flowId, userId: user.id, now });
        applied.mailQueued = true;
      })(),
    );
  let session: Promise<IssuedSession> | null = null;
  let trust: Promise<IssuedDeviceTrust> | null = null;

  for (const intent of context.intents) {
    if (intent.type !== "rejected" && !userId) throw new Error(`Intent ${intent.type} without a user.`);
    const owner = userId as string;
    switch (intent.type) {
      case "rejected":
        if (intent.error === "too_many_attempts") audit("flow_locked", { kind: context.kind });
        break;
      case "codeIssued":
        // A new code voids the previous one, so its queued mail must not go out. The drop
        // must run before the new mail is queued, and a flow's first code has none to void.
        if (context.codeIssuedBefore) await dropPendingCodeMails(tx, flowId);
        mail({ template: "code", purpose: intent.purpose, code: intent.code, validMinutes: context.codeTtlMinutes });
        break;
      case "sessionIssued": {
        session = send(createSession(tx, owner, intent.method, now, config.sessionTtlMs));
        if (intent.method === "trusted_device" && context.trustId) {
          send(markDeviceTrustUsed(tx, context.trustId, now));
        }
        break;
      }
      case "deviceTrusted": {
        trust = send(createDeviceTrust(tx, owner, context.userAgent, now, config.deviceTrustTtlMs));
        send(trust.then((created) => audit("device_trusted", { trustedDeviceId: created.id })));
        mail({
          template: "device_trusted",
          userAgent: context.userAgent,
          validDays: Math.round(config.deviceTrustTtlMs / 86_400_000),
        });
        break;
      }
      case "mfaChanged":
        send(tx.update(users).set({ mfaEnabled: intent.enabled, updatedAt: now }).where(eq(users.id, owner)));
        audit(intent.enabled ? "mfa_enabled" : "mfa_disabled");
        mail({ template: intent.enabled ? "mfa_enabled" : "mfa_disabled" });
        break;
      case "trustedDevicesRevoked":
        send(revokeDeviceTrusts(tx, owner, now));
        break;
      case "otherSessionsEnded":
        send(revokeUserSessions(tx, owner, context.sessionId, now));
        break;
      case "ownerNotified":
        await mail({ template: intent.notice });
        break;
    }
  }
  await Promise.all(writes);

  if (session) {
    const issued = await session;
    applied.output = { sessionToken: issued.token, sessionExpiresAt: issued.expiresAt.toISOString() };
  }
  if (trust) {
    const created = await trust;
    applied.deviceTrust = { token: created.token, expiresAt: created.expiresAt };
    if (applied.output) {
      applied.output.deviceToken = created.token;
      applied.output.deviceTrustExpiresAt = created.expiresAt.toISOString();
    }
  }
  return applied;
}
