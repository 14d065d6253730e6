/**
 * Configuration read from the environment once at start-up. An invalid value stops the
 * process with a message that names the variable and the accepted values.
 */
import { z } from "zod";
import { DEFAULT_FLOW_LIMITS, type FlowLimits } from "../machines/index.js";
import { defaultHashConcurrency } from "./passwords.js";

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

export interface Config {
  production: boolean;
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  secret: string | undefined;
  resendApiKey: string | undefined;
  mailFrom: string;
  adminToken: string | undefined;
  registration: "open" | "closed";
  trustProxy: boolean;
  rateLimitPerMinute: number;
  logLevel: string;
  flowLimits: FlowLimits;
  sessionTtlMs: number;
  deviceTrustTtlMs: number;
  /** How long after a sign-in with a code a session counts as recently verified. */
  recentVerificationMs: number;
  /** `production` (OWASP's Argon2id parameters) or `cheap` (benchmarks only). */
  passwordHash: "production" | "cheap";
  /** Argon2id hashes that run at once; the others wait for a free slot. */
  hashConcurrency: number;
  /** Argon2id hashes that may run or wait at once before sign-ins get 503. */
  hashQueueLimit: number;
  databasePoolSize: number;
  /** Whether postgres.js prepares statements; off for PgBouncer before 1.21 in transaction mode. */
  databasePrepare: boolean;
  signInPause: SignInPausePolicy;
  /** Finished flows, sent mail, expired sessions and the like are deleted this long after. */
  retentionMs: number;
  /** How often each process runs the retention job. */
  retentionIntervalMs: number;
  /** Serves the web pages (sign-in, profile, development mailbox) beside the API. */
  ui: boolean;
  /** How long one request to the mail provider may take before it is retried later. */
  mailTimeoutMs: number;
  /**
   * Port on 127.0.0.1 of the inspection relay that every applied event is reported to, from
   * `INSPECT`; null turns live inspection off. Development mode only.
   */
  inspectRelayPort: number | null;
}

/** When repeated failures pause sign-in for an address, and for how long. */
export interface SignInPausePolicy {
  /** Failures in a row that start a pause; every further multiple starts the next one. */
  threshold: number;
  /** Length of the first pause; each further one lasts twice as long as the last. */
  firstPauseMs: number;
  maxPauseMs: number;
}

/** Port of the inspection relay when `INSPECT` is `1`, `on` or `true`, as `@statelyai/inspect/server` uses. */
export const DEFAULT_INSPECT_RELAY_PORT = 8080;

const integer = (min: number) => z.coerce.number().int().min(min);
const flag = z.enum(["0", "1", "true", "false", "on", "off"]).transform((value) => ["1", "true", "on"].includes(value));

const environmentSchema = z.object({
  NODE_ENV: z.string().optional(),
  PORT: integer(0).max(65_535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must start with postgres:// or postgresql://")
    .optional(),
  DATA_DIR: z.string().min(1).default(".data"),
  SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  RESEND_API_KEY: z.string().min(1).optional(),
  MAIL_FROM: z.string().min(3).default("MFA development <mfa@example.test>"),
  ADMIN_TOKEN: z.string().min(32, "must be at least 32 characters").optional(),
  REGISTRATION: z.enum(["open", "closed"]).default("open"),
  TRUST_PROXY: flag.default(false),
  RATE_LIMIT_PER_MINUTE: integer(0).default(30),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  CODE_TTL_MINUTES: integer(1).default(DEFAULT_FLOW_LIMITS.codeTtlMs / MINUTE_MS),
  FLOW_TTL_MINUTES: integer(1).default(DEFAULT_FLOW_LIMITS.flowTtlMs / MINUTE_MS),
  MAX_WRONG_SUBMISSIONS: integer(1).default(DEFAULT_FLOW_LIMITS.maxWrongSubmissions),
  MAX_CODES_PER_FLOW: integer(1).default(DEFAULT_FLOW_LIMITS.maxCodesPerFlow),
  RESEND_COOLDOWN_SECONDS: integer(0).default(DEFAULT_FLOW_LIMITS.resendCooldownMs / 1000),
  SESSION_TTL_HOURS: integer(1).default(12),
  DEVICE_TRUST_DAYS: integer(1).default(14),
  RECENT_VERIFICATION_MINUTES: integer(0).default(15),
  PASSWORD_HASH: z.enum(["production", "cheap"]).default("production"),
  HASH_CONCURRENCY: integer(1).optional(),
  HASH_QUEUE_LIMIT: integer(1).default(64),
  DATABASE_POOL_SIZE: integer(1).default(10),
  // NOTE: off by default. With prepared statements, the PostgreSQL restart test timed out
  // waiting for 503s in about 1 run of 6: requests hung instead of failing. The cause is not
  // found. Without them, this code passed it 4 times of 4 and the code before them 6 of 6.
  DATABASE_PREPARE: flag.default(false),
  SIGN_IN_PAUSE_THRESHOLD: integer(1).default(10),
  SIGN_IN_PAUSE_MINUTES: integer(1).default(15),
  SIGN_IN_PAUSE_MAX_HOURS: integer(1).default(24),
  RETENTION_DAYS: integer(1).default(30),
  RETENTION_INTERVAL_MINUTES: integer(1).default(60),
  UI: flag.default(true),
  MAIL_TIMEOUT_SECONDS: integer(1).default(10),
  INSPECT: z
    .string()
    .regex(/^(|0|1|off|on|false|true|[0-9]{4,5})$/, "must be 1, on, true, a relay port from 1024 to 65535, or 0, off, false")
    .transform(parseInspectRelayPort)
    .refine((port) => port === null || (port >= 1024 && port <= 65_535), "must be a relay port from 1024 to 65535")
    .optional(),
});

function parseInspectRelayPort(value: string): number | null {
  if (["", "0", "off", "false"].includes(value)) return null;
  if (["1", "on", "true"].includes(value)) return DEFAULT_INSPECT_RELAY_PORT;
  return Number(value);
}

/** Reads the configuration, or throws an error that names each invalid variable. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Invalid configuration. ${problems.join("; ")}`);
  }
  const env = parsed.data;
  const production = env.NODE_ENV === "production";
  if (production) {
    for (const name of ["SECRET", "RESEND_API_KEY"] as const) {
      if (!env[name]) throw new Error(`${name} is required when NODE_ENV=production.`);
    }
    if (env.PASSWORD_HASH === "cheap") {
      throw new Error("PASSWORD_HASH=cheap is for benchmarks only and is rejected when NODE_ENV=production.");
    }
    if (env.INSPECT) {
      throw new Error(
        `INSPECT=${environment.INSPECT} is for development only and is rejected when NODE_ENV=production. Unset INSPECT.`,
      );
    }
  }
  return {
    production,
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    secret: env.SECRET,
    resendApiKey: env.RESEND_API_KEY,
    mailFrom: env.MAIL_FROM,
    adminToken: env.ADMIN_TOKEN,
    registration: env.REGISTRATION,
    trustProxy: env.TRUST_PROXY,
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
    logLevel: env.LOG_LEVEL,
    flowLimits: {
      codeTtlMs: env.CODE_TTL_MINUTES * MINUTE_MS,
      flowTtlMs: env.FLOW_TTL_MINUTES * MINUTE_MS,
      maxWrongSubmissions: env.MAX_WRONG_SUBMISSIONS,
      maxCodesPerFlow: env.MAX_CODES_PER_FLOW,
      resendCooldownMs: env.RESEND_COOLDOWN_SECONDS * 1000,
    },
    sessionTtlMs: env.SESSION_TTL_HOURS * HOUR_MS,
    deviceTrustTtlMs: env.DEVICE_TRUST_DAYS * DAY_MS,
    recentVerificationMs: env.RECENT_VERIFICATION_MINUTES * MINUTE_MS,
    passwordHash: env.PASSWORD_HASH,
    hashConcurrency: env.HASH_CONCURRENCY ?? defaultHashConcurrency(environment),
    hashQueueLimit: env.HASH_QUEUE_LIMIT,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    databasePrepare: env.DATABASE_PREPARE,
    signInPause: {
      threshold: env.SIGN_IN_PAUSE_THRESHOLD,
      firstPauseMs: env.SIGN_IN_PAUSE_MINUTES * MINUTE_MS,
      maxPauseMs: env.SIGN_IN_PAUSE_MAX_HOURS * HOUR_MS,
    },
    retentionMs: env.RETENTION_DAYS * DAY_MS,
    retentionIntervalMs: env.RETENTION_INTERVAL_MINUTES * MINUTE_MS,
    ui: env.UI,
    mailTimeoutMs: env.MAIL_TIMEOUT_SECONDS * 1000,
    inspectRelayPort: env.INSPECT ?? null,
  };
}
