/** A real Argon2id hasher with the cheap benchmark parameters, which counts its calls. */
import { CHEAP_ARGON2, type PasswordHasher, createArgon2Hasher } from "../../src/passwords.js";

export interface CountingHasher extends PasswordHasher {
  hashes: number;
  verifications: number;
}

/** Creates the hasher; `queueLimit` bounds its pool as `HASH_QUEUE_LIMIT` does. */
export function createCountingHasher(queueLimit = 1_000): CountingHasher {
  const inner = createArgon2Hasher(CHEAP_ARGON2, queueLimit);
  const hasher: CountingHasher = {
    hashes: 0,
    verifications: 0,
    hash(password) {
      hasher.hashes += 1;
      return inner.hash(password);
    },
    verify(passwordHash, password) {
      hasher.verifications += 1;
      return inner.verify(passwordHash, password);
    },
  };
  return hasher;
}
