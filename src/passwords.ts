/** Password hashing with Argon2id, on a bounded queue so that a burst of sign-ins cannot pile up. */
import { hash, verify } from "@node-rs/argon2";
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
}

/** OWASP Password Storage Cheat Sheet: Argon2id with 19 MiB, 2 iterations, 1 lane. */
export const PRODUCTION_ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };
/** Benchmarks only: isolates everything but the hash. Rejected in production. */
export const CHEAP_ARGON2 = { memoryCost: 8, timeCost: 1, parallelism: 1 };

/** Thrown when more hashes are queued than the limit allows; the HTTP edge answers 503. */
export class HashQueueFullError extends Error {
  constructor() {
    super("The password hash queue is full.");
    this.name = "HashQueueFullError";
  }
}

/** Threads in libuv's pool, which runs @node-rs/argon2's work, fs, dns.lookup and zlib. */
export function threadPoolSize(environment: NodeJS.ProcessEnv = process.env): number {
  const size = Number(environment.UV_THREADPOOL_SIZE);
  return Number.isInteger(size) && size > 0 ? size : 4;
}

/**
 * Hashes that may run at once: one per core, but never more than the thread pool minus two
 * threads, which stay free for file writes and DNS lookups so that nothing else waits
 * behind queued hashes. Each running hash also uses its memory cost (19 MiB in production).
 */
export function defaultHashConcurrency(environment: NodeJS.ProcessEnv = process.env): number {
  return Math.max(1, Math.min(availableParallelism(), threadPoolSize(environment) - 2));
}

/**
 * Creates an Argon2id hasher that runs at most `concurrency` hashes at once on libuv's
 * thread pool, queues the rest here, and rejects work beyond `queueLimit` hashes in flight.
 */
export function createArgon2Hasher(
  parameters: typeof PRODUCTION_ARGON2,
  queueLimit: number,
  concurrency = defaultHashConcurrency(),
): PasswordHasher {
  // @node-rs/argon2 uses Argon2id unless told otherwise.
  const options = { ...parameters };
  let inFlight = 0;
  let running = 0;
  const waiting: (() => void)[] = [];

  async function bounded<T>(work: () => Promise<T>): Promise<T> {
    if (inFlight >= queueLimit) throw new HashQueueFullError();
    inFlight += 1;
    try {
      // Hashes wait here rather than in libuv's queue, where they would delay other work.
      if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
      running += 1;
      try {
        return await work();
      } finally {
        running -= 1;
        waiting.shift()?.();
      }
    } finally {
      inFlight -= 1;
    }
  }

  return {
    hash: (password) => bounded(() => hash(password, options)),
    verify: (passwordHash, password) =>
      bounded(async () => {
        try {
          return await verify(passwordHash, password);
        } catch {
          // A malformed stored hash verifies nothing.
          return false;
        }
      }),
  };
}

/**
 * Verifies a password against a user's hash, or against a dummy hash when there is no user,
 * so that an unknown email costs the same work as a wrong password.
 */
export class PasswordChecker {
  private dummyHash: Promise<string>;

  constructor(private readonly hasher: PasswordHasher) {
    this.dummyHash = hasher.hash(randomBytes(16).toString("hex"));
  }

  async check(passwordHash: string | null, password: string): Promise<boolean> {
    if (passwordHash === null) {
      await this.hasher.verify(await this.dummyHash, password);
      return false;
    }
    return this.hasher.verify(passwordHash, password);
  }
}
