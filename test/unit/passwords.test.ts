/**
 * The Argon2id hasher, its bounded queue, and the checker that spends the same work on an
 * unknown email as on a wrong password. These run the real @node-rs/argon2 with the cheap
 * benchmark parameters, except where a test needs one slow verification.
 */
import { hash } from "@node-rs/argon2";
import { availableParallelism } from "node:os";
import { beforeAll, describe, expect, it } from "vitest";
import {
  CHEAP_ARGON2,
  HashQueueFullError,
  PRODUCTION_ARGON2,
  PasswordChecker,
  type PasswordHasher,
  createArgon2Hasher,
  defaultHashConcurrency,
  threadPoolSize,
} from "../../src/passwords.js";

describe("threadPoolSize", () => {
  it("reads UV_THREADPOOL_SIZE", () => {
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: "8" })).toBe(8);
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: "1" })).toBe(1);
  });

  it("falls back to libuv's default of 4", () => {
    for (const value of [undefined, "", "0", "-2", "2.5", "many"]) {
      expect(threadPoolSize({ UV_THREADPOOL_SIZE: value })).toBe(4);
    }
  });
});

describe("defaultHashConcurrency", () => {
  it("leaves two threads of the pool free", () => {
    expect(defaultHashConcurrency({ UV_THREADPOOL_SIZE: "3" })).toBe(1);
    expect(defaultHashConcurrency({ UV_THREADPOOL_SIZE: "4" })).toBe(Math.min(availableParallelism(), 2));
  });

  it("runs at least one hash", () => {
    expect(defaultHashConcurrency({ UV_THREADPOOL_SIZE: "2" })).toBe(1);
    expect(defaultHashConcurrency({ UV_THREADPOOL_SIZE: "1" })).toBe(1);
  });

  it("runs no more hashes than cores", () => {
    expect(defaultHashConcurrency({ UV_THREADPOOL_SIZE: "1000" })).toBe(availableParallelism());
  });
});

describe("createArgon2Hasher", () => {
  it("hashes with OWASP's Argon2id parameters in production", async () => {
    const passwordHash = await createArgon2Hasher(PRODUCTION_ARGON2, 1).hash("correct horse battery");
    expect(passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it("verifies the password it hashed", async () => {
    const hasher = createArgon2Hasher(CHEAP_ARGON2, 10);
    const passwordHash = await hasher.hash("correct horse battery");
    expect(passwordHash).toMatch(/^\$argon2id\$v=19\$m=8,t=1,p=1\$/);
    expect(await hasher.verify(passwordHash, "correct horse battery")).toBe(true);
    expect(await hasher.verify(passwordHash, "correct horse batterY")).toBe(false);
  });

  it("verifies nothing against a malformed hash", async () => {
    const hasher = createArgon2Hasher(CHEAP_ARGON2, 10);
    expect(await hasher.verify("not a hash", "correct horse battery")).toBe(false);
  });

  it("rejects hashes beyond the queue limit", async () => {
    const hasher = createArgon2Hasher(CHEAP_ARGON2, 2, 1);
    const results = await Promise.allSettled([hasher.hash("a"), hasher.hash("b"), hasher.verify("x", "c")]);
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "fulfilled", "rejected"]);
    const reason = (results[2] as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(HashQueueFullError);
    expect(reason.name).toBe("HashQueueFullError");
    expect(reason.message).toBe("The password hash queue is full.");
  });

  it("accepts hashes again once the queue drains", async () => {
    const hasher = createArgon2Hasher(CHEAP_ARGON2, 2, 1);
    for (let round = 1; round <= 3; round += 1) {
      const passwordHashes = await Promise.all([hasher.hash("a"), hasher.hash("b")]);
      expect(passwordHashes).toHaveLength(2);
    }
  });

  describe("with a concurrency of one", () => {
    let slowHash: string;
    let fastHash: string;

    beforeAll(async () => {
      // Verifying this hash takes tens of milliseconds; the cheap one takes well under one.
      slowHash = await hash("slow", { memoryCost: 19_456, timeCost: 20, parallelism: 1 });
      fastHash = await hash("fast", CHEAP_ARGON2);
    });

    it("starts a queued hash only after the running one ends", async () => {
      const hasher = createArgon2Hasher(CHEAP_ARGON2, 10, 1);
      const finished: string[] = [];
      const slow = hasher.verify(slowHash, "slow").then((valid) => finished.push(`slow:${valid}`));
      const fast = hasher.verify(fastHash, "fast").then((valid) => finished.push(`fast:${valid}`));
      await Promise.all([slow, fast]);
      expect(finished).toEqual(["slow:true", "fast:true"]);
    });
  });
});

/** Creates a hasher that records each verification and returns `verifies` to all of them. */
function createRecordingHasher(verifies: boolean) {
  const verifications: [string, string][] = [];
  const hasher: PasswordHasher = {
    hash: async (password) => `hash-of-${password}`,
    verify: async (passwordHash, password) => {
      verifications.push([passwordHash, password]);
      return verifies;
    },
  };
  return { hasher, verifications };
}

describe("PasswordChecker", () => {
  it("checks a user's password against the user's hash", async () => {
    const { hasher, verifications } = createRecordingHasher(true);
    const checker = new PasswordChecker(hasher);
    expect(await checker.check("stored-hash", "pw")).toBe(true);
    expect(verifications).toEqual([["stored-hash", "pw"]]);
  });

  it("returns the hasher's rejection", async () => {
    const { hasher } = createRecordingHasher(false);
    expect(await new PasswordChecker(hasher).check("stored-hash", "pw")).toBe(false);
  });

  it("verifies a dummy hash for an unknown user and rejects", async () => {
    const { hasher, verifications } = createRecordingHasher(true);
    const checker = new PasswordChecker(hasher);
    expect(await checker.check(null, "pw")).toBe(false);
    expect(verifications).toHaveLength(1);
    const [dummyHash, password] = verifications[0]!;
    expect(dummyHash).toMatch(/^hash-of-[0-9a-f]{32}$/);
    expect(password).toBe("pw");
  });
});
