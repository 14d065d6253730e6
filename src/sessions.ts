/** Sessions: what a completed login issues. Only the SHA-256 of each token is stored. */
import { and, eq, gt, inArray, isNull, ne } from "drizzle-orm";
import type { AuthenticationMethod } from "../machines/index.js";
import type { Database, Transaction } from "../db/client.js";
import { organizations, sessions, users } from "../db/schema.js";
import { createId, createToken, hashToken } from "./crypto.js";

export type SessionRow = typeof sessions.$inferSelect;
export type UserRow = typeof users.$inferSelect;
export type OrganizationRow = typeof organizations.$inferSelect;

export interface AuthenticatedSession {
  session: SessionRow;
  user: UserRow;
  organization: OrganizationRow | null;
}

export interface IssuedSession {
  id: string;
  token: string;
  expiresAt: Date;
}

/** Creates a session; one signed in with a code counts as recently verified from `now`. */
export async function createSession(
  tx: Transaction,
  userId: string,
  method: AuthenticationMethod,
  now: Date,
  ttlMs: number,
): Promise<IssuedSession> {
  const token = createToken();
  const id = createId();
  const expiresAt = new Date(now.getTime() + ttlMs);
  await tx.insert(sessions).values({
    id,
    userId,
    tokenHash: hashToken(token),
    authenticationMethod: method,
    authenticatedAt: now,
    codeVerifiedAt: method === "code" ? now : null,
    expiresAt,
  });
  return { id, token, expiresAt };
}

/** Finds the unrevoked, unexpired session of a token, with its user and organization. */
export async function authenticateSession(
  db: Database,
  token: string,
  now: Date,
): Promise<AuthenticatedSession | null> {
  const [row] = await db
    .select({ session: sessions, user: users, organization: organizations })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .leftJoin(organizations, eq(organizations.id, users.organizationId))
    .where(and(eq(sessions.tokenHash, hashToken(token)), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
    .limit(1);
  return row ?? null;
}

export async function revokeSession(db: Database | Transaction, sessionId: string, now: Date): Promise<void> {
  await db
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
}

/** Revokes every session of a user but `keepSessionId`, or every one when it is null; returns how many. */
export async function revokeUserSessions(
  tx: Database | Transaction,
  userId: string,
  keepSessionId: string | null,
  now: Date,
): Promise<number> {
  const conditions = [eq(sessions.userId, userId), isNull(sessions.revokedAt)];
  if (keepSessionId) conditions.push(ne(sessions.id, keepSessionId));
  const revoked = await tx
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(...conditions))
    .returning({ id: sessions.id });
  return revoked.length;
}

/**
 * Revokes the sessions of one user, or of every member of an organization, that signed in
 * with a password alone, because a code is now required of them. Returns how many it
 * revoked. Sessions that signed in with a code or a trusted device stay valid.
 */
export async function revokePasswordSessions(
  tx: Transaction,
  owner: { userId: string } | { organizationId: string },
  now: Date,
): Promise<number> {
  const members =
    "userId" in owner
      ? eq(sessions.userId, owner.userId)
      : inArray(
          sessions.userId,
          tx.select({ id: users.id }).from(users).where(eq(users.organizationId, owner.organizationId)),
        );
  const revoked = await tx
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(members, eq(sessions.authenticationMethod, "password"), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return revoked.length;
}

/** Whether a session submitted a code at sign-in within the last `windowMs`. */
export function isRecentlyVerified(session: SessionRow, now: Date, windowMs: number): boolean {
  return session.codeVerifiedAt !== null && now.getTime() - session.codeVerifiedAt.getTime() < windowMs;
}
