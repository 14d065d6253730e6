/** Carries out the intents that a machine emitted, inside the event's transaction. */
import { eq } from "drizzle-orm";
import type { FlowIntent, FlowKind } from "../../machines/index.js";
import type { Transaction } from "../../db/client.js";
import { users } from "../../db/schema.js";
import { recordAudit } from "../audit.js";
import type { Config } from "../config.js";
import type { SecretKeys } from "../crypto.js";
import { createDeviceTrust, markDeviceTrustUsed, revokeDeviceTrusts } from "../device-trusts.js";
import { dropPendingCodeMails, queueMail } from "../mail/outbox.js";
import { type UserRow, createSession, revokeUserSessions } from "../sessions.js";
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

/** Applies each intent in order; mail goes to the outbox, never out directly. */
export async function applyIntents(tx: Transaction, context: IntentContext): Promise<AppliedIntents> {
  const { config, flowId, keys, now, userId } = context;
  const applied: AppliedIntents = { mailQueued: false };
  const audit = (type: string, details?: Record<string, unknown>) =>
    recordAudit(tx, { actor: "user", type, userId, flowId, details });
  const mail = async (template: Parameters<typeof queueMail>[2]["mail"]) => {
    const user = await context.loadUser();
    if (!user) return;
    await queueMail(tx, keys.outboxKey, { recipient: user.email, mail: template, flowId, userId: user.id, now });
    applied.mailQueued = true;
  };

  for (const intent of context.intents) {
    if (intent.type !== "rejected" && !userId) throw new Error(`Intent ${intent.type} without a user.`);
    const owner = userId as string;
    switch (intent.type) {
      case "rejected":
        if (intent.error === "too_many_attempts") await audit("flow_locked", { kind: context.kind });
        break;
      case "codeIssued":
        // A new code voids the previous one, so its queued mail must not go out.
        await dropPendingCodeMails(tx, flowId);
        await mail({ template: "code", purpose: intent.purpose, code: intent.code, validMinutes: context.codeTtlMinutes });
        break;
      case "sessionIssued": {
        const session = await createSession(tx, owner, intent.method, now, config.sessionTtlMs);
        applied.output = { sessionToken: session.token, sessionExpiresAt: session.expiresAt.toISOString() };
        if (intent.method === "trusted_device" && context.trustId) {
          await markDeviceTrustUsed(tx, context.trustId, now);
        }
        break;
      }
      case "deviceTrusted": {
        const trust = await createDeviceTrust(tx, owner, context.userAgent, now, config.deviceTrustTtlMs);
        applied.deviceTrust = { token: trust.token, expiresAt: trust.expiresAt };
        if (applied.output) {
          applied.output.deviceToken = trust.token;
          applied.output.deviceTrustExpiresAt = trust.expiresAt.toISOString();
        }
        await audit("device_trusted", { trustedDeviceId: trust.id });
        await mail({
          template: "device_trusted",
          userAgent: context.userAgent,
          validDays: Math.round(config.deviceTrustTtlMs / 86_400_000),
        });
        break;
      }
      case "mfaChanged":
        await tx.update(users).set({ mfaEnabled: intent.enabled, updatedAt: now }).where(eq(users.id, owner));
        await audit(intent.enabled ? "mfa_enabled" : "mfa_disabled");
        await mail({ template: intent.enabled ? "mfa_enabled" : "mfa_disabled" });
        break;
      case "trustedDevicesRevoked":
        await revokeDeviceTrusts(tx, owner, now);
        break;
      case "otherSessionsEnded":
        await revokeUserSessions(tx, owner, context.sessionId, now);
        break;
      case "ownerNotified":
        await mail({ template: intent.notice });
        break;
    }
  }
  return applied;
}
