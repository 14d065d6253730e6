/**
 * Everything that varies between a deployment and a test is built here and injected: the
 * database, the clock, the password hasher, the mail transport and the configuration.
 */
import type { Database } from "../db/client.js";
import type { Config } from "./config.js";
import { type SecretKeys, deriveKeys } from "./crypto.js";
import { FlowRuntime } from "./flows/runtime.js";
import { relayAddresses } from "./inspection/addresses.js";
import type { FlowInspection } from "./inspection/reporter.js";
import type { Logger } from "./logger.js";
import { MailDispatcher } from "./mail/outbox.js";
import { type MailTransport, createDevelopmentTransport, createResendTransport } from "./mail/transport.js";
import { ClientRateLimiter } from "./rate-limit.js";
import { RetentionJob } from "./retention.js";
import { CHEAP_ARGON2, PRODUCTION_ARGON2, PasswordChecker, type PasswordHasher, createArgon2Hasher } from "./passwords.js";
import { loadDevelopmentSecret } from "./secret.js";

export interface Services {
  config: Config;
  db: Database;
  logger: Logger;
  now: () => Date;
  keys: SecretKeys;
  hasher: PasswordHasher;
  passwords: PasswordChecker;
  transport: MailTransport;
  dispatcher: MailDispatcher;
  runtime: FlowRuntime;
  rateLimiter: ClientRateLimiter;
  retention: RetentionJob;
  /** Reports applied events to the inspection relay; null unless `INSPECT` is set. */
  inspection: FlowInspection | null;
}

export interface ServiceOverrides {
  now?: () => Date;
  hasher?: PasswordHasher;
  transport?: MailTransport;
}

/** Builds the services on a migrated database. */
export async function createServices(
  config: Config,
  db: Database,
  logger: Logger,
  overrides: ServiceOverrides = {},
): Promise<Services> {
  const now = overrides.now ?? (() => new Date());
  let secret = config.secret;
  if (!secret) {
    secret = await loadDevelopmentSecret(db);
    logger.warn("SECRET is not set: using a development secret stored in the database. Set SECRET in production.");
  }
  const keys = deriveKeys(secret);
  const hasher =
    overrides.hasher ??
    createArgon2Hasher(
      config.passwordHash === "cheap" ? CHEAP_ARGON2 : PRODUCTION_ARGON2,
      config.hashQueueLimit,
      config.hashConcurrency,
    );
  const transport =
    overrides.transport ??
    (config.resendApiKey
      ? createResendTransport(config.resendApiKey, { timeoutMs: config.mailTimeoutMs })
      : createDevelopmentTransport(db));
  const dispatcher = new MailDispatcher({
    db,
    transport,
    outboxKey: keys.outboxKey,
    from: config.mailFrom,
    logger,
    now,
    // A claim outlives a request that runs into the timeout, with room for the database writes.
    leaseMs: 3 * config.mailTimeoutMs,
  });
  const passwords = new PasswordChecker(hasher);
  const inspection = await createInspection(config, logger);
  const runtime = new FlowRuntime({
    db,
    config,
    keys,
    passwords,
    logger,
    now,
    onMailQueued: () => void dispatcher.kick(),
    inspection,
  });
  const rateLimiter = new ClientRateLimiter(db, now, config.rateLimitPerMinute);
  const retention = new RetentionJob({
    db,
    logger,
    now,
    retentionMs: config.retentionMs,
    intervalMs: config.retentionIntervalMs,
  });
  return {
    config,
    db,
    logger,
    now,
    keys,
    hasher,
    passwords,
    transport,
    dispatcher,
    runtime,
    rateLimiter,
    retention,
    inspection,
  };
}

/** Connects to the inspection relay when `INSPECT` is set; the inspector code loads only then. */
async function createInspection(config: Config, logger: Logger): Promise<FlowInspection | null> {
  if (config.inspectRelayPort === null) return null;
  const { InspectionReporter } = await import("./inspection/reporter.js");
  return new InspectionReporter({ url: relayAddresses(config.inspectRelayPort).url, logger });
}
