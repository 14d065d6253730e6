/**
 * The operator command-line tool, run as its own process against a real server on a real
 * socket, on a fresh PGlite folder or a fresh PostgreSQL database.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { type RunningService, startService } from "../../src/server.js";
import { PASSWORD } from "../support/app.js";
import { type TestDatabase, createTestDatabase, onPostgres } from "../support/database.js";
import { uniqueEmail } from "../support/flows.js";
import { ADMIN_TOKEN } from "../support/operator.js";

const PORT = 4150;
/** Nothing listens here, so requests to it fail to connect. */
const CLOSED_PORT = 4151;
const CLI_TIMEOUT_MS = 20_000;

let service: RunningService;
let database: TestDatabase | null = null;
let dataDir: string | null = null;

beforeAll(async () => {
  if (onPostgres) database = await createTestDatabase();
  else dataDir = mkdtempSync(join(tmpdir(), "mfa-admin-cli-"));
  const config = loadConfig({
    PORT: String(PORT),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir ?? ".data",
    ADMIN_TOKEN,
    SECRET: "test-secret-test-secret-test-secret-0123",
    PASSWORD_HASH: "cheap",
  });
  service = await startService(config, createLogger("silent"), database ? { database } : {});
});

afterAll(async () => {
  await service?.stop();
  if (database) await database.destroy();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface CliResult {
  status: number | null;
  /** The signal that ended the process, when one did. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the tool as `npm run admin` does, with its own environment and standard input. */
function runCli(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, ADMIN_URL: service.url, ADMIN_TOKEN };
  for (const [name, value] of Object.entries(options.env ?? {})) env[name] = value === "" ? undefined : value;
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/admin.ts", ...args], { env });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  child.stdin.end(options.input ?? "");
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`The tool did not exit within ${CLI_TIMEOUT_MS} ms: ${stderr}`));
    }, CLI_TIMEOUT_MS);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** Checks that the tool succeeded and parses what it printed. */
function json(result: CliResult) {
  expect(result.status, JSON.stringify(result)).toBe(0);
  return JSON.parse(result.stdout);
}

/** Starts a login over HTTP and submits the credentials; returns the flow. */
async function submitCredentials(email: string): Promise<{ id: string; state: string }> {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${service.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return (await response.json()) as { id: string; state: string };
  };
  const flow = await post("/v1/flows", { kind: "login" });
  return post(`/v1/flows/${flow.id}/events`, { type: "SUBMIT_CREDENTIALS", email, password: PASSWORD });
}

describe("admin tool usage", () => {
  it("prints help and exits 0", async () => {
    const result = await runCli(["--help"]);

    expect(result.status, result.stderr).toBe(0);
    for (const command of ["org:create", "org:enforce", "org:add-member", "user:mfa-reset", "user:create", "pause:lift"]) {
      expect(result.stdout).toContain(command);
    }
  });

  it.each([
    ["no command", []],
    ["an unknown command", ["org:explode", "x"]],
    ["a missing argument", ["org:add-member", "only-one"]],
    ["an unknown option", ["org:show", "x", "--verbose"]],
  ])("exits 2 on %s", async (_, args) => {
    const result = await runCli(args);

    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/error|Usage/);
    expect(result.stdout).toBe("");
  });

  it("exits 2 without ADMIN_TOKEN", async () => {
    const result = await runCli(["org:show", "x"], { env: { ADMIN_TOKEN: "" } });

    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain("ADMIN_TOKEN is not set");
  });

  it("exits 2 on an invalid URL", async () => {
    const result = await runCli(["org:show", "x", "--url", "not a url"]);

    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain("Invalid service URL");
  });

  it("exits 1 with a wrong token", async () => {
    const result = await runCli(["org:create", "Acme"], { env: { ADMIN_TOKEN: "not-the-operator-token" } });

    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toContain("401 unauthenticated");
    expect(result.stderr).not.toContain("not-the-operator-token");
  });

  it("exits 3 when the service is unreachable", async () => {
    const result = await runCli(["org:show", "x"], { env: { ADMIN_URL: `http://127.0.0.1:${CLOSED_PORT}` } });

    expect(result.status, result.stderr).toBe(3);
    expect(result.stderr).toContain("could not reach the service");
  });

  it("prefers --url to ADMIN_URL", async () => {
    const result = await runCli(["org:create", "Url Test", "--url", service.url], {
      env: { ADMIN_URL: `http://127.0.0.1:${CLOSED_PORT}` },
    });

    expect(json(result).name).toBe("Url Test");
  });
});

describe("admin tool commands", () => {
  it("enforces MFA for a new member", async () => {
    const email = uniqueEmail("cli");
    const user = json(await runCli(["user:create", email], { input: `${PASSWORD}\n` }));
    expect(user).toEqual({ id: expect.any(String), email, mfaEnabled: false });
    const organization = json(await runCli(["org:create", "Acme"]));
    expect(organization).toEqual({ id: expect.any(String), name: "Acme", mfaEnforced: false, memberCount: 0 });

    const added = await runCli(["org:add-member", organization.id, user.id]);
    expect(added.status, JSON.stringify(added)).toBe(0);
    expect(added.stdout).toContain(`User ${user.id} is a member of organization ${organization.id}.`);
    const relaxed = await submitCredentials(email);
    expect(relaxed.state, JSON.stringify(relaxed)).toBe("authenticated");

    const enforced = json(await runCli(["org:enforce", organization.id]));
    expect(enforced).toEqual({ ...organization, mfaEnforced: true, memberCount: 1 });
    const challenged = await submitCredentials(email);
    expect(challenged.state, JSON.stringify(challenged)).toBe("awaitingCode");

    const shown = json(await runCli(["org:show", organization.id]));
    expect(shown.memberCount).toBe(1);
    const unenforced = json(await runCli(["org:unenforce", organization.id]));
    expect(unenforced.mfaEnforced).toBe(false);
  });

  it("reports a member of another organization", async () => {
    const user = json(await runCli(["user:create", uniqueEmail("cli")], { input: PASSWORD }));
    const first = json(await runCli(["org:create", "First"]));
    const second = json(await runCli(["org:create", "Second"]));
    expect((await runCli(["org:add-member", first.id, user.id])).status).toBe(0);

    const result = await runCli(["org:add-member", second.id, user.id]);

    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toContain("409 member_of_another_organization");
    expect(result.stdout).toBe("");
    const removed = await runCli(["org:remove-member", first.id, user.id]);
    expect(removed.status, removed.stderr).toBe(0);
    const again = await runCli(["org:remove-member", first.id, user.id]);
    expect(again.status, again.stderr).toBe(1);
    expect(again.stderr).toContain("404 not_found");
  });

  it("resets MFA and revokes sessions", async () => {
    const user = json(await runCli(["user:create", uniqueEmail("cli")], { input: PASSWORD }));

    const reset = await runCli(["user:mfa-reset", user.id]);
    expect(reset.status, reset.stderr).toBe(0);
    expect(reset.stdout).toContain(`MFA reset for user ${user.id}`);
    const revoked = await runCli(["user:revoke-sessions", user.id]);
    expect(revoked.status, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`Every session of user ${user.id} revoked.`);
  });

  it("lifts a sign-in pause", async () => {
    const email = uniqueEmail("cli");

    const result = await runCli(["pause:lift", email]);

    expect(result.status, JSON.stringify(result)).toBe(0);
    expect(result.stdout).toContain(`Sign-in for ${email} is no longer paused.`);
    const invalid = await runCli(["pause:lift", "not-an-address"]);
    expect(invalid.status, JSON.stringify(invalid)).toBe(1);
    expect(invalid.stderr).toContain("400 invalid_request");
  });

  it.each([
    ["org:show", ["no-such-organization"]],
    ["user:mfa-reset", ["no-such-user"]],
    ["user:revoke-sessions", ["no-such-user"]],
  ])("exits 1 on %s of an unknown id", async (command, args) => {
    const result = await runCli([command, ...args]);

    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toContain("404 not_found");
  });

  it("exits 1 on a password the service rejects", async () => {
    const result = await runCli(["user:create", uniqueEmail("cli")], { input: "short\n" });

    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toContain("400 invalid_request");
  });
});
