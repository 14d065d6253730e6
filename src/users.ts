/** Users and their organizations. Emails are stored lower-cased. */
import { eq, sql } from "drizzle-orm";
import type { Database, Transaction } from "../db/client.js";
import { flows, organizations, users } from "../db/schema.js";
import { createId } from "./crypto.js";
import { ApiError } from "./http/errors.js";
import type { PasswordHasher } from "./passwords.js";
import type { OrganizationRow, UserRow } from "./sessions.js";

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
  const query = db
    .select({ user: users, organization: organizations })
    .from(users)
    .leftJoin(organizations, eq(organizations.id, users.organizationId))
    .where(condition)
    .limit(1);
  const [row] = lock ? await query.for(lock, { of: users }) : await query;
  return row ?? null;
}

/** Whether sign-in asks this user for a code: MFA is on, or the organization enforces it. */
export function isCodeRequired({ user, organization }: UserWithOrganization): boolean {
  return user.mfaEnabled || organization?.mfaEnforced === true;
}

/** Creates a user; an address already taken answers `email_taken`. */
export async function createUser(
  db: Database,
  hasher: PasswordHasher,
  email: string,
  password: string,
): Promise<UserRow> {
  const passwordHash = await hasher.hash(password);
  const [row] = await db
    .insert(users)
    .values({ id: createId(), email: normalizeEmail(email), passwordHash })
    .onConflictDoNothing({ target: users.email })
    .returning();
  if (!row) throw new ApiError("email_taken");
  return row;
}

/** The public form of a user. */
export function toUserView(user: UserRow) {
  return { id: user.id, email: user.email, mfaEnabled: user.mfaEnabled };
}
