/**
 * Organizations and their members, changed by operators. While an organization enforces MFA,
 * each member's sign-in requires a code. The login flow reads that from the database at
 * every sign-in, so no session or token stores it, and a change applies to the next sign-in.
 */
import { and, count, eq } from "drizzle-orm";
import type { Database, Transaction } from "../db/client.js";
import { organizations, users } from "../db/schema.js";
import { recordAudit } from "./audit.js";
import { createId } from "./crypto.js";
import { ApiError } from "./http/errors.js";
import { queueMail } from "./mail/outbox.js";
import { type OrganizationRow, revokePasswordSessions } from "./sessions.js";

export interface OrganizationView {
  id: string;
  name: string;
  mfaEnforced: boolean;
  memberCount: number;
}

export interface EnforcementChange {
  organization: OrganizationView;
  /** Members were mailed through the outbox; the caller kicks the dispatcher after the commit. */
  mailQueued: boolean;
}

const organizationNotFound = () => new ApiError("not_found", { message: "No organization has this id." });
const userNotFound = () => new ApiError("not_found", { message: "No user has this id." });

async function countMembers(tx: Database | Transaction, organizationId: string): Promise<number> {
  const [row] = await tx.select({ members: count() }).from(users).where(eq(users.organizationId, organizationId));
  return row?.members ?? 0;
}

function toOrganizationView(row: OrganizationRow, memberCount: number): OrganizationView {
  return { id: row.id, name: row.name, mfaEnforced: row.mfaEnforced, memberCount };
}

/** Creates an organization that does not enforce MFA yet, with its audit row. */
export async function createOrganization(db: Database, name: string, now: Date): Promise<OrganizationView> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(organizations)
      .values({ id: createId(), name, createdAt: now, updatedAt: now })
      .returning();
    await recordAudit(tx, { actor: "operator", type: "organization_created", organizationId: row!.id, details: { name } });
    return toOrganizationView(row!, 0);
  });
}

/** Reads an organization with its member count; throws `not_found` when there is none. */
export async function findOrganization(db: Database, id: string): Promise<OrganizationView> {
  const [row] = await db.select().from(organizations).where(eq(organizations.id, id));
  if (!row) throw organizationNotFound();
  return toOrganizationView(row, await countMembers(db, id));
}

/**
 * Turns enforcement on or off. A change is audited and mailed to every member; turning it on
 * also revokes the members' sessions that signed in with a password alone. Setting the value
 * the organization already has changes nothing, so it writes no audit row and sends no mail.
 */
export async function setMfaEnforcement(
  db: Database,
  outboxKey: Buffer,
  id: string,
  enforced: boolean,
  now: Date,
): Promise<EnforcementChange> {
  return db.transaction(async (tx) => {
    // Adding a member takes a share lock on this row, so this change waits for members being
    // added, and the queries below see them.
    const [current] = await tx.select().from(organizations).where(eq(organizations.id, id)).for("no key update");
    if (!current) throw organizationNotFound();
    if (current.mfaEnforced === enforced) {
      return { organization: toOrganizationView(current, await countMembers(tx, id)), mailQueued: false };
    }

    const [updated] = await tx
      .update(organizations)
      .set({ mfaEnforced: enforced, updatedAt: now })
      .where(eq(organizations.id, id))
      .returning();
    // Every flow event locks its user's row while it decides, for example, whether a sign-in
    // needs a code. Locking the members' rows makes this change wait for sign-ins in progress,
    // whose password-only sessions are then revoked below, and makes later sign-ins wait for
    // this commit and read the new value.
    const members = await tx
      .select({ id: users.id, email: users.email })
      .from(users)
      .where(eq(users.organizationId, id))
      .orderBy(users.id)
      .for("no key update");
    const sessionsRevoked = enforced ? await revokePasswordSessions(tx, { organizationId: id }, now) : 0;
    for (const member of members) {
      await queueMail(tx, outboxKey, {
        recipient: member.email,
        mail: { template: "organization_enforcement", organizationName: updated!.name, enforced },
        userId: member.id,
        now,
      });
    }
    await recordAudit(tx, {
      actor: "operator",
      type: "organization_enforcement_changed",
      organizationId: id,
      details: { mfaEnforced: enforced, memberCount: members.length, sessionsRevoked },
    });
    return { organization: toOrganizationView(updated!, members.length), mailQueued: members.length > 0 };
  });
}

/**
 * Adds a user to an organization, with its audit row. When the organization enforces MFA,
 * the user's sessions that signed in with a password alone are revoked. Adding a member
 * again changes nothing. A user belongs to at most one organization, so a member of another
 * one throws `member_of_another_organization`.
 */
export async function addMember(db: Database, organizationId: string, userId: string, now: Date): Promise<void> {
  await db.transaction(async (tx) => {
    // The share lock makes an enforcement change of this organization wait for this
    // transaction, so the new member is either signed out here or by that change.
    const [organization] = await tx
      .select()
      .from(organizations)
      .where(eq(organizations.id, organizationId))
      .for("share");
    if (!organization) throw organizationNotFound();
    const [user] = await tx.select().from(users).where(eq(users.id, userId)).for("no key update");
    if (!user) throw userNotFound();
    if (user.organizationId === organizationId) return;
    if (user.organizationId !== null) {
      throw new ApiError("member_of_another_organization", { extra: { organizationId: user.organizationId } });
    }

    await tx.update(users).set({ organizationId, updatedAt: now }).where(eq(users.id, userId));
    const sessionsRevoked = organization.mfaEnforced ? await revokePasswordSessions(tx, { userId }, now) : 0;
    await recordAudit(tx, {
      actor: "operator",
      type: "organization_member_added",
      userId,
      organizationId,
      details: { mfaEnforced: organization.mfaEnforced, sessionsRevoked },
    });
  });
}

/** Removes a member from an organization, with its audit row; throws `not_found` when the user is not a member. */
export async function removeMember(db: Database, organizationId: string, userId: string, now: Date): Promise<void> {
  await db.transaction(async (tx) => {
    const [organization] = await tx
      .select({ id: organizations.id })
      .from(organizations)
      .where(eq(organizations.id, organizationId))
      .for("share");
    if (!organization) throw organizationNotFound();

    const [removed] = await tx
      .update(users)
      .set({ organizationId: null, updatedAt: now })
      .where(and(eq(users.id, userId), eq(users.organizationId, organizationId)))
      .returning({ id: users.id });
    if (!removed) throw new ApiError("not_found", { message: "The user is not a member of this organization." });
    await recordAudit(tx, { actor: "operator", type: "organization_member_removed", userId, organizationId });
  });
}
