/** Configuration fails fast with a message that names the variable. */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createTestApp } from "../support/app.js";

const SECRET = "s".repeat(32);

describe("configuration", () => {
  it("has development defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ production: false, port: 3000, host: "127.0.0.1", dataDir: ".data", registration: "open" });
    expect(config.flowLimits).toEqual({
      codeTtlMs: 600_000,
      flowTtlMs: 900_000,
      maxWrongSubmissions: 5,
      maxCodesPerFlow: 5,
      resendCooldownMs: 60_000,
    });
    expect(config.deviceTrustTtlMs).toBe(14 * 24 * 3_600_000);
  });

  it("requires SECRET in production", () => {
    expect(() => loadConfig({ NODE_ENV: "production", RESEND_API_KEY: "re_x" })).toThrow(/SECRET is required/);
  });

  it("requires RESEND_API_KEY in production", () => {
    expect(() => loadConfig({ NODE_ENV: "production", SECRET })).toThrow(/RESEND_API_KEY is required/);
  });

  it("rejects the cheap hash in production", () => {
    expect(() => loadConfig({ NODE_ENV: "production", SECRET, RESEND_API_KEY: "re_x", PASSWORD_HASH: "cheap" })).toThrow(
      /PASSWORD_HASH=cheap/,
    );
  });

  it("reads INSPECT as on, off or a port", () => {
    expect(loadConfig({}).inspectRelayPort).toBeNull();
    for (const off of ["", "0", "off", "false"]) expect(loadConfig({ INSPECT: off }).inspectRelayPort).toBeNull();
    for (const on of ["1", "on", "true"]) expect(loadConfig({ INSPECT: on }).inspectRelayPort).toBe(8080);
    expect(loadConfig({ INSPECT: "9230" }).inspectRelayPort).toBe(9230);
  });

  it("rejects an INSPECT that is no port", () => {
    expect(() => loadConfig({ INSPECT: "80" })).toThrow(/INSPECT: must be 1, on, true, a relay port/);
    expect(() => loadConfig({ INSPECT: "70000" })).toThrow(/INSPECT: must be a relay port from 1024 to 65535/);
    expect(() => loadConfig({ INSPECT: "ws://127.0.0.1:8080" })).toThrow(/INSPECT/);
  });

  it("rejects INSPECT in production", () => {
    expect(() => loadConfig({ NODE_ENV: "production", SECRET, RESEND_API_KEY: "re_x", INSPECT: "1" })).toThrow(
      /INSPECT=1 is for development only and is rejected when NODE_ENV=production/,
    );
    expect(loadConfig({ NODE_ENV: "production", SECRET, RESEND_API_KEY: "re_x", INSPECT: "0" }).inspectRelayPort).toBeNull();
  });

  it("prepares statements only when told to", () => {
    expect(loadConfig({}).databasePrepare).toBe(false);
    expect(loadConfig({ DATABASE_PREPARE: "on" }).databasePrepare).toBe(true);
    expect(() => loadConfig({ DATABASE_PREPARE: "sometimes" })).toThrow(/DATABASE_PREPARE/);
  });

  it("names each invalid variable", () => {
    expect(() => loadConfig({ PORT: "eighty", REGISTRATION: "maybe" })).toThrow(/PORT.*REGISTRATION/);
    expect(() => loadConfig({ SECRET: "short" })).toThrow(/SECRET: must be at least 32 characters/);
    expect(() => loadConfig({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL/);
  });
});

describe("production mode", () => {
  it("does not mount the development routes", async () => {
    const app = await createTestApp({ env: { NODE_ENV: "production", RESEND_API_KEY: "re_unused" } });
    try {
      const response = await app.request("GET", "/v1/dev/mailbox");
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe("not_found");
      const flow = await app.request("POST", "/v1/flows", { kind: "login" });
      const replay = await app.request("GET", `/v1/dev/flows/${flow.body.id}/inspect`);
      expect(replay.status).toBe(404);
      expect(replay.body.error.code).toBe("not_found");
      const script = await app.request("GET", "/v1/dev/assets/inspect-replay.js");
      expect(script.status).toBe(404);
    } finally {
      await app.close();
    }
  });
});
