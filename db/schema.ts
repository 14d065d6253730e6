/**
 * Storage of the service. Tokens are kept only as SHA-256 hashes and codes only as HMACs;
 * times are `timestamptz`.
 */
import { sql } from "drizzle-orm";
import {
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const time = (name: string) => timestamp(name, { withTimezone: true });

export const organizations = pgTable("organizations", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  mfaEnforced: boolean("mfa_enforced").notNull().default(false),
  createdAt: createdAt(),
  updatedAt: time("updated_at").notNull().defaultNow(),
});

export const users = pgTable(
  "users",
  {
    id: text("id").primaryKey(),
    /** Lower-cased, so that addresses compare case-insensitively. */
    email: text("email").notNull(),
    /** Argon2id in PHC string form. */
    passwordHash: text("password_hash").notNull(),
    mfaEnabled: boolean("mfa_enabled").notNull().default(false),
    organizationId: text("organization_id").references(() => organizations.id),
    createdAt: createdAt(),
    updatedAt: time("updated_at").notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex("users_email_key").on(table.email),
    index("users_organization_id_idx").on(table.organizationId),
  ],
);

export const sessions = pgTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    /** SHA-256 of the session token, hex. */
    tokenHash: text("token_hash").notNull(),
    /** `password`, `code` or `trusted_device`. */
    authenticationMethod: text("authentication_method").notNull(),
    authenticatedAt: time("authenticated_at").notNull(),
    /** When this session last submitted a correct code at sign-in; null if never. */
    codeVerifiedAt: time("code_verified_at"),
    /** Absolute, never extended. */
    expiresAt: time("expires_at").notNull(),
    revokedAt: time("revoked_at"),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex("sessions_token_hash_key").on(table.tokenHash),
    index("sessions_user_id_idx").on(table.userId),
    index("sessions_expires_at_idx").on(table.expiresAt),
  ],
);

export const trustedDevices = pgTable(
  "trusted_devices",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    /** SHA-256 of the device token, hex. */
    tokenHash: text("token_hash").notNull(),
    userAgent: text("user_agent"),
    /** 14 days after the code was verified; absolute, never extended by use. */
    expiresAt: time("expires_at").notNull(),
    lastUsedAt: time("last_used_at"),
    revokedAt: time("revoked_at"),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex("trusted_devices_token_hash_key").on(table.tokenHash),
    index("trusted_devices_user_id_idx").on(table.userId),
    index("trusted_devices_expires_at_idx").on(table.expiresAt),
  ],
);

export const flows = pgTable(
  "flows",
  {
    id: text("id").primaryKey(),
    /** `login`, `enrollment` or `disablement`. */
    kind: text("kind").notNull(),
    /** Null for a login flow until its credentials name a user. */
    userId: text("user_id").references(() => users.id),
    /** Version of the machine definition that wrote `snapshot`. */
    machineVersion: integer("machine_version").notNull(),
    /** Row version, incremented by every stored transition; detects changes made meanwhile. */
    version: integer("version").notNull().default(1),
    /** Public state name, duplicated from the snapshot for queries. */
    state: text("state").notNull(),
    /** `active` or `done`. */
    status: text("status").notNull(),
    /** `{ value, context }` of the machine; holds no code, password or token. */
    snapshot: jsonb("snapshot").notNull(),
    expiresAt: time("expires_at").notNull(),
    createdAt: createdAt(),
    updatedAt: time("updated_at").notNull().defaultNow(),
  },
  (table) => [
    index("flows_user_id_idx").on(table.userId),
    index("flows_updated_at_idx").on(table.updatedAt),
    // The retention job deletes flows by these two times.
    index("flows_expires_at_idx").on(table.expiresAt),
  ],
);

export const flowJournal = pgTable(
  "flow_journal",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    flowId: text("flow_id").notNull(),
    /** Row version of the flow after this entry. */
    flowVersion: integer("flow_version").notNull(),
    eventType: text("event_type").notNull(),
    /** `ok`, or the error code that the event was answered with. */
    outcome: text("outcome").notNull(),
    state: text("state").notNull(),
    createdAt: createdAt(),
  },
  (table) => [index("flow_journal_flow_id_idx").on(table.flowId, table.id)],
);

export const mailOutbox = pgTable(
  "mail_outbox",
  {
    /** Also the provider's idempotency key, so a retried send is delivered once. */
    id: text("id").primaryKey(),
    flowId: text("flow_id"),
    userId: text("user_id"),
    recipient: text("recipient").notNull(),
    /** Name of the mail template, such as `code` or `mfa_enabled`. */
    template: text("template").notNull(),
    /** Template parameters, AES-256-GCM encrypted under the server secret; null once sent. */
    payload: text("payload"),
    /** `pending`, `sent`, `failed` or `dropped` (its code was voided by a newer one). */
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: time("next_attempt_at").notNull().defaultNow(),
    /** A process that claimed the row sends it until then; after that another may. */
    leaseUntil: time("lease_until"),
    lastError: text("last_error"),
    providerMessageId: text("provider_message_id"),
    sentAt: time("sent_at"),
    createdAt: createdAt(),
  },
  (table) => [
    index("mail_outbox_pending_idx")
      .on(table.nextAttemptAt)
      .where(sql`${table.status} = 'pending'`),
    index("mail_outbox_flow_id_idx").on(table.flowId),
    // The retention job deletes sent, failed and dropped rows by age.
    index("mail_outbox_finished_idx")
      .on(table.createdAt)
      .where(sql`${table.status} <> 'pending'`),
  ],
);

/** Mails as sent by the development transport; never used with `RESEND_API_KEY`. */
export const devMailbox = pgTable(
  "dev_mailbox",
  {
    id: text("id").primaryKey(),
    recipient: text("recipient").notNull(),
    subject: text("subject").notNull(),
    text: text("text").notNull(),
    html: text("html").notNull(),
    sentAt: time("sent_at").notNull().defaultNow(),
  },
  (table) => [index("dev_mailbox_recipient_idx").on(table.recipient, table.sentAt)],
);

export const auditEvents = pgTable(
  "audit_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    /** `user`, `operator` or `system`. */
    actor: text("actor").notNull(),
    type: text("type").notNull(),
    userId: text("user_id"),
    organizationId: text("organization_id"),
    flowId: text("flow_id"),
    details: jsonb("details"),
    createdAt: createdAt(),
  },
  (table) => [index("audit_events_user_id_idx").on(table.userId, table.createdAt)],
);

/**
 * Failed sign-ins per lower-cased email address, registered or not, which drive the sign-in
 * pause. Every process updates a row with one `INSERT ... ON CONFLICT DO UPDATE`, so parallel
 * flows for one address count exactly.
 */
export const signInFailures = pgTable(
  "sign_in_failures",
  {
    /** Lower-cased; an address without an account is counted too. */
    email: text("email").primaryKey(),
    /** Failures in a row since the last sign-in that reached `authenticated`. */
    failures: integer("failures").notNull().default(0),
    /** Sign-in for the address is paused until then; null when no pause was ever started. */
    pausedUntil: time("paused_until"),
    /** When the owner was last mailed that a pause started; at most once a day. */
    ownerNotifiedAt: time("owner_notified_at"),
    updatedAt: time("updated_at").notNull().defaultNow(),
  },
  (table) => [index("sign_in_failures_updated_at_idx").on(table.updatedAt)],
);

/**
 * Requests per client address in one-minute windows, for the per-client limit; kept in the
 * database so that every process counts against the same number.
 */
export const rateLimitWindows = pgTable(
  "rate_limit_windows",
  {
    /** The client address, from the socket or from `X-Forwarded-For` with `TRUST_PROXY`. */
    client: text("client").notNull(),
    /** Start of the minute that the requests fall in. */
    windowStart: time("window_start").notNull(),
    requests: integer("requests").notNull(),
  },
  (table) => [
    primaryKey({ name: "rate_limit_windows_pkey", columns: [table.client, table.windowStart] }),
    index("rate_limit_windows_window_start_idx").on(table.windowStart),
  ],
);

/** Values that every process must share, such as the development secret. */
export const serverSettings = pgTable("server_settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  createdAt: createdAt(),
});
