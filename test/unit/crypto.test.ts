/**
 * Ids, tokens, code HMACs and outbox encryption. A wrong key derivation or HMAC input would
 * void every outstanding code and stored mail. A comparison that throws or matches too much
 * would let a wrong code through. So the fixed vectors below were computed with OpenSSL
 * (`openssl kdf ... HKDF`, `openssl dgst -sha256 -mac HMAC`), not with this module.
 */
import { describe, expect, it } from "vitest";
import {
  createCode,
  createId,
  createToken,
  decrypt,
  deriveKeys,
  encrypt,
  hashCode,
  hashToken,
  isCodeMatching,
  isEqualSecret,
} from "../../src/crypto.js";

const SECRET = "s".repeat(32);
const CODE_KEY_HEX = "0f2157db3e072407d5ad654f2fb6f4ac6bd21aeb6dadea6dbeea358082593858";
const OUTBOX_KEY_HEX = "03b4207087446ff4aeb479867428debb3ada5630ddaf89a55ecce99968090346";
/** HMAC-SHA-256 of `flow-1:123456` under the code key above. */
const CODE_HMAC_HEX = "0b9e00d6c62913d2e558c0f90a5e2e138602cf754c160c7172d5c72f750049e6";
const BASE64URL = /^[A-Za-z0-9_-]+$/;

describe("ids and tokens", () => {
  it("creates ids of 128 bits by default", () => {
    const id = createId();
    expect(id).toMatch(BASE64URL);
    expect(Buffer.from(id, "base64url")).toHaveLength(16);
  });

  it("creates longer ids on request", () => {
    expect(Buffer.from(createId(24), "base64url")).toHaveLength(24);
  });

  it("creates tokens of 256 bits", () => {
    const token = createToken();
    expect(token).toMatch(BASE64URL);
    expect(Buffer.from(token, "base64url")).toHaveLength(32);
    expect(createToken()).not.toBe(token);
  });

  it("hashes a token with SHA-256", () => {
    expect(hashToken("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("deriveKeys", () => {
  it("derives the stored HKDF keys", () => {
    const keys = deriveKeys(SECRET);
    expect(keys.codeKey.toString("hex")).toBe(CODE_KEY_HEX);
    expect(keys.outboxKey.toString("hex")).toBe(OUTBOX_KEY_HEX);
  });
});

describe("codes", () => {
  it("creates six ASCII digits, zero-padded", () => {
    // One code in ten is below 100000, so without padding a thousand codes would fail this.
    const codes = Array.from({ length: 1_000 }, () => createCode());
    for (const code of codes) {
      expect(code).toMatch(/^[0-9]{6}$/);
    }
    expect(codes.some((code) => code.startsWith("0"))).toBe(true);
  });

  it("hashes a code bound to its flow", () => {
    const key = Buffer.from(CODE_KEY_HEX, "hex");
    expect(hashCode(key, "flow-1", "123456")).toBe(CODE_HMAC_HEX);
    expect(hashCode(key, "flow-2", "123456")).not.toBe(CODE_HMAC_HEX);
  });
});

describe("isCodeMatching", () => {
  const key = Buffer.from(CODE_KEY_HEX, "hex");

  it("matches the code of this flow", () => {
    expect(isCodeMatching(key, "flow-1", "123456", CODE_HMAC_HEX)).toBe(true);
  });

  it("rejects another code", () => {
    expect(isCodeMatching(key, "flow-1", "123457", CODE_HMAC_HEX)).toBe(false);
  });

  it("rejects the same code from another flow", () => {
    expect(isCodeMatching(key, "flow-2", "123456", CODE_HMAC_HEX)).toBe(false);
  });

  it("rejects every code when none is outstanding", () => {
    expect(isCodeMatching(key, "flow-1", "123456", null)).toBe(false);
  });

  it("rejects a hash of another length", () => {
    expect(isCodeMatching(key, "flow-1", "123456", CODE_HMAC_HEX.slice(0, 62))).toBe(false);
    expect(isCodeMatching(key, "flow-1", "123456", `${CODE_HMAC_HEX}00`)).toBe(false);
    expect(isCodeMatching(key, "flow-1", "123456", "")).toBe(false);
  });
});

describe("isEqualSecret", () => {
  it("matches equal strings only", () => {
    expect(isEqualSecret("operator-token", "operator-token")).toBe(true);
    expect(isEqualSecret("operator-token", "operator-tokem")).toBe(false);
    expect(isEqualSecret("operator-token", "operator-token-longer")).toBe(false);
    expect(isEqualSecret("", "operator-token")).toBe(false);
  });
});

describe("encrypt and decrypt", () => {
  const key = Buffer.from(OUTBOX_KEY_HEX, "hex");
  const otherKey = Buffer.from(CODE_KEY_HEX, "hex");

  it("round-trips text", () => {
    for (const plaintext of ["Your code is 123456", "", "Grüße, ✓"]) {
      expect(decrypt(key, encrypt(key, plaintext))).toBe(plaintext);
    }
  });

  it("writes IV, tag and ciphertext", () => {
    const parts = encrypt(key, "hello").split(".");
    expect(parts).toHaveLength(3);
    const [iv, tag, body] = parts.map((part) => Buffer.from(part, "base64url"));
    expect(iv).toHaveLength(12);
    expect(tag).toHaveLength(16);
    expect(body).toHaveLength(5);
    for (const part of parts) {
      expect(part).toMatch(BASE64URL);
    }
  });

  it("uses a fresh IV every time", () => {
    expect(encrypt(key, "hello")).not.toBe(encrypt(key, "hello"));
  });

  it("rejects a changed ciphertext", () => {
    const [iv, tag, body] = encrypt(key, "hello").split(".");
    const changed = Buffer.from(body!, "base64url");
    changed[0]! ^= 1;
    expect(() => decrypt(key, [iv, tag, changed.toString("base64url")].join("."))).toThrow();
  });

  it("rejects another key", () => {
    expect(() => decrypt(otherKey, encrypt(key, "hello"))).toThrow();
  });

  it("rejects a payload without three parts", () => {
    for (const sealed of ["", "a", "a.b"]) {
      expect(() => decrypt(key, sealed)).toThrow("Malformed encrypted payload.");
    }
  });
});
