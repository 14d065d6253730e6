/** Audit rows for security events, written in the transaction of the change they record. */
import type { Database, Transaction } from "../db/client.js";
import { auditEvents } from "../db/schema.js";

export interface AuditEvent {
  actor: "user" | "operator" | "system";
  type: string;
  userId?: string | null;
  organizationId?: string | null;
  flowId?: string | null;
  details?: Record<string, unknown>;
}

export async function recordAudit(tx: Database | Transaction, event: AuditEvent): Promise<void> {
  await tx.insert(auditEvents).values({
    actor: event.actor,
    type: event.type,
    userId: event.userId ?? null,
    organizationId: event.organizationId ?? null,
    flowId: event.flowId ?? null,
    details: event.details ?? null,
  });
}
