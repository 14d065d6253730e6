/**
 * Trusted devices: a device token skips the code for one user until the trust expires. Only
 * the SHA-256 of each token is stored, and a trust is never extended by use.
 */
import { and, eq, gt, isNull } from "drizzle-orm";
import type { Database, Transaction } from "../db/client.js";
import { trustedDevices } from "../db/schema.js";
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

/** Revokes every trusted device of a user. */
export async function revokeDeviceTrusts(tx: Database | Transaction, userId: string, now: Date): Promise<void> {
  await tx
    .update(trustedDevices)
    .set({ revokedAt: now })
    .where(and(eq(trustedDevices.userId, userId), isNull(trustedDevices.revokedAt)));
}
