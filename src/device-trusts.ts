/**
 * Trusted devices: a device token skips the code for one user until the trust expires. Only
 * the SHA-256 of each token is stored, and a trust is never extended by use.
 */
import { and, desc, eq, gt, isNull } from "drizzle-orm";
import type { Database, Transaction } from "../db/client.js";
import { trustedDevices } from "../db/schema.js";
import { recordAudit } from "./audit.js";
import { createId, createToken, hashToken } from "./crypto.js";

export type TrustedDeviceRow = typeof trustedDevices.$inferSelect;

export interface IssuedDeviceTrust {
  id: string;
  token: string;
  expiresAt: Date;
}

export async function createDeviceTrust(
  tx: Transaction,
  userId: string,
  userAgent: string | null,
  now: Date,
  ttlMs: number,
): Promise<IssuedDeviceTrust> {
  const token = createToken();
  const id = createId();
  const expiresAt = new Date(now.getTime() + ttlMs);
  await tx.insert(trustedDevices).values({
    id,
    userId,
    tokenHash: hashToken(token),
    userAgent: userAgent?.slice(0, 512) ?? null,
    createdAt: now,
    expiresAt,
  });
  return { id, token, expiresAt };
}

/** Finds the valid trust that a token names for this user; another user's token finds nothing. */
export async function findDeviceTrust(
  tx: Database | Transaction,
  userId: string,
  token: string,
  now: Date,
): Promise<TrustedDeviceRow | null> {
  const [row] = await tx
    .select()
    .from(trustedDevices)
    .where(
      and(
        eq(trustedDevices.tokenHash, hashToken(token)),
        eq(trustedDevices.userId, userId),
        isNull(trustedDevices.revokedAt),
        gt(trustedDevices.expiresAt, now),
      ),
    )
    .limit(1);
  return row ?? null;
}

export async function markDeviceTrustUsed(tx: Transaction, id: string, now: Date): Promise<void> {
  await tx.update(trustedDevices).set({ lastUsedAt: now }).where(eq(trustedDevices.id, id));
}

/** Revokes every trusted device of a user; returns how many were still unrevoked. */
export async function revokeDeviceTrusts(tx: Database | Transaction, userId: string, now: Date): Promise<number> {
  const revoked = await tx
    .update(trustedDevices)
    .set({ revokedAt: now })
    .where(and(eq(trustedDevices.userId, userId), isNull(trustedDevices.revokedAt)))
    .returning({ id: trustedDevices.id });
  return revoked.length;
}

/** Lists a user's unrevoked, unexpired trusted devices, newest first. */
export async function listDeviceTrusts(db: Database, userId: string, now: Date): Promise<TrustedDeviceRow[]> {
  return db
    .select()
    .from(trustedDevices)
    .where(and(eq(trustedDevices.userId, userId), isNull(trustedDevices.revokedAt), gt(trustedDevices.expiresAt, now)))
    .orderBy(desc(trustedDevices.createdAt), desc(trustedDevices.id));
}

/**
 * Revokes one trusted device of a user, with an audit row. Returns false when the user has no
 * device of that id, so that another user's device looks the same as one that never existed.
 * Revoking a device again changes nothing and returns true.
 */
export async function revokeDeviceTrust(db: Database, userId: string, id: string, now: Date): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(trustedDevices)
      .where(and(eq(trustedDevices.id, id), eq(trustedDevices.userId, userId)))
      .for("no key update");
    if (!row) return false;
    if (row.revokedAt) return true;

    await tx.update(trustedDevices).set({ revokedAt: now }).where(eq(trustedDevices.id, id));
    await recordAudit(tx, { actor: "user", type: "device_revoked", userId, details: { trustedDeviceId: id } });
    return true;
  });
}

/** Revokes every trusted device of a user, with an audit row; returns how many. */
export async function revokeAllDeviceTrusts(db: Database, userId: string, now: Date): Promise<number> {
  return db.transaction(async (tx) => {
    const count = await revokeDeviceTrusts(tx, userId, now);
    await recordAudit(tx, { actor: "user", type: "devices_revoked", userId, details: { count } });
    return count;
  });
}
