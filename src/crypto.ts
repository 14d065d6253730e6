/** Random identifiers and tokens, hashes of tokens, and codes with their HMACs. */
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, randomInt, timingSafeEqual } from "node:crypto";

/** Creates an opaque id of 128 random bits, or more when it also serves as a credential. */
export function createId(bytes = 16): string {
  return randomBytes(bytes).toString("base64url");
}

/** Creates a token of 256 random bits. */
export function createToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Hashes a token for storage; tokens have 256 bits of entropy, so a plain SHA-256 suffices. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Keys derived from the server secret, one per use. */
export interface SecretKeys {
  codeKey: Buffer;
  outboxKey: Buffer;
}

export function deriveKeys(secret: string): SecretKeys {
  const derive = (info: string) => Buffer.from(hkdfSync("sha256", secret, "mfa-email-service", info, 32));
  return { codeKey: derive("code-hmac"), outboxKey: derive("outbox-encryption") };
}

/** Creates a six-digit code from a CSPRNG. */
export function createCode(): string {
  return randomInt(0, 1_000_000).toString().padStart(6, "0");
}

/**
 * Computes the HMAC of a code bound to one flow and purpose, so that a code is only valid
 * for the flow it was made for.
 */
export function hashCode(key: Buffer, flowId: string, code: string): string {
  return createHmac("sha256", key).update(`${flowId}:${code}`).digest("hex");
}

/** Compares a submitted code with a stored HMAC in constant time. */
export function isCodeMatching(key: Buffer, flowId: string, code: string, storedHash: string | null): boolean {
  if (storedHash === null) return false;
  const expected = Buffer.from(storedHash, "hex");
  const actual = Buffer.from(hashCode(key, flowId, code), "hex");
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Compares two strings in constant time, for operator tokens. */
export function isEqualSecret(a: string, b: string): boolean {
  const left = createHash("sha256").update(a).digest();
  const right = createHash("sha256").update(b).digest();
  return timingSafeEqual(left, right);
}

/** Encrypts with AES-256-GCM; the output is `iv.tag.ciphertext` in base64url. */
export function encrypt(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((part) => part.toString("base64url")).join(".");
}

export function decrypt(key: Buffer, sealed: string): string {
  const [iv, tag, body] = sealed.split(".").map((part) => Buffer.from(part, "base64url"));
  if (!iv || !tag || !body) throw new Error("Malformed encrypted payload.");
  const decipher = createDecipheriv("aes-256-gcm", key, iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
}
