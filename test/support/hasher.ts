/** A real Argon2id hasher with the cheap benchmark parameters, which counts its calls. */
import { CHEAP_ARGON2, type PasswordHasher, createArgon2Hasher } from "../../src/passwords.js";

export interface CountingHasher extends PasswordHasher {
  hashes: number;
  verifications: number;
}

export function createCountingHasher(): CountingHasher {
  const inner = createArgon2Hasher(CHEAP_ARGON2, 1_000);
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
