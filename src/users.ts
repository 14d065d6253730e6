/** Users and their organizations. Emails are stored lower-cased. */
import { eq, sql } from "drizzle-orm";
import type { Database, Transaction } from "../db/client.js";
import { flows, organizations, users } from "../db/schema.js";
import { recordAudit } from "./audit.js";
import { createId } from "./crypto.js";
import { revokeDeviceTrusts } from "./device-trusts.js";
import { ApiError } from "./http/errors.js";
import { queueMail } from "./mail/outbox.js";
import type { PasswordHasher } from "./passwords.js";
import { type OrganizationRow, type UserRow, revokeUserSessions } from "./sessions.js";

const userNotFound = () => new ApiError("not_found", { message: "No user has this id." });

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export interface UserWithOrganization {
  user: UserRow;
  organization: OrganizationRow | null;
}

/**
 * Finds a user with the organization, by id, by email or as the user of a flow, optionally
 * locking the user row.
 */
export async function findUser(
  db: Database | Transaction,
  by: { id: string } | { email: string } | { flowId: string },
  lock?: "share" | "no key update",
): Promise<UserWithOrganization | null> {
  const condition =
    "id" in by
      ? eq(users.id, by.id)
      : "email" in by
        ? eq(users.email, normalizeEmail(by.email))
        : eq(users.id, sql`(select ${flows.userId} from ${flows} where ${flows.id} = ${by.flowId})`);
  if (!lock) {
    const [row] = await db
      .select({ user: users, organization: organizations })
      .from(users)
      .leftJoin(organizations, eq(organizations.id, users.organizationId))
      .where(condition)
      .limit(1);
    return row ?? null;
  }

  // A statement that waited for a row lock still reads the other tables as they were when it
  // began, so the organization is read by a second statement, which the server runs after the
  // lock is granted. An enforcement change locks its members' rows, so a sign-in that waited
  // for it reads the new value. Both statements go out in one round trip.
  const [[user], [member]] = await Promise.all([
    db.select().from(users).where(condition).limit(1).for(lock),
    db
      .select({ organization: organizations })
      .from(organizations)
      .innerJoin(users, eq(users.organizationId, organizations.id))
      .where(condition)
      .limit(1),
  ]);
  if (!user) return null;
  return { user, organization: member?.organization ?? null };
}

/** Whether sign-in asks this user for a code: MFA is on, or the organization enforces it. */
export function isCodeRequired({ user, organization }: UserWithOrganization): boolean {
  return user.mfaEnabled || organization?.mfaEnforced === true;
}

/**
 * Creates a user with an audit row naming who created it (the user at registration, or an
 * operator); an address already taken throws `email_taken`.
 */
export async function createUser(
  db: Database,
  hasher: PasswordHasher,
  email: string,
  password: string,
  actor: "user" | "operator" = "user",
): Promise<UserRow> {
  // Hashed before the transaction, so that no connection is held during the hash.
  const passwordHash = await hasher.hash(password);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(users)
      .values({ id: createId(), email: normalizeEmail(email), passwordHash })
      .onConflictDoNothing({ target: users.email })
      .returning();
    if (!row) throw new ApiError("email_taken");
    await recordAudit(tx, { actor, type: "user_created", userId: row.id });
    return row;
  });
}

/**
 * Resets a user's MFA for an operator: MFA off, every trusted device and session revoked, the
 * user mailed through the outbox, all in one transaction with its audit row. Throws
 * `not_found` when there is no such user.
 */
export async function resetMfa(db: Database, outboxKey: Buffer, userId: string, now: Date): Promise<void> {
  await db.transaction(async (tx) => {
    const [user] = await tx.select().from(users).where(eq(users.id, userId)).for("no key update");
    if (!user) throw userNotFound();

    await tx.update(users).set({ mfaEnabled: false, updatedAt: now }).where(eq(users.id, userId));

    const trustedDevicesRevoked = await revokeDeviceTrusts(tx, userId, now);
    const sessionsRevoked = await revokeUserSessions(tx, userId, null, now);
    await recordAudit(tx, {
      actor: "operator",
      type: "mfa_reset",
      userId,
      details: { mfaWasEnabled: user.mfaEnabled, trustedDevicesRevoked, sessionsRevoked },
    });
    await queueMail(tx, outboxKey, { recipient: user.email, mail: { template: "mfa_reset" }, userId, now });
  });
}

/** Revokes every session of a user for an operator, with its audit row; throws `not_found` when there is no such user. */
export async function revokeSessionsByOperator(db: Database, userId: string, now: Date): Promise<void> {
  await db.transaction(async (tx) => {
    // Locked like every other change that revokes a user's sessions, so that two of them
    // never update the same sessions in opposite orders.
    const [user] = await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for("no key update");
    if (!user) throw userNotFound();

    const sessionsRevoked = await revokeUserSessions(tx, userId, null, now);
    await recordAudit(tx, { actor: "operator", type: "sessions_revoked", userId, details: { sessionsRevoked } });
  });
}

/** The public form of a user. */
export function toUserView(user: UserRow) {
  return { id: user.id, email: user.email, mfaEnabled: user.mfaEnabled };
}
