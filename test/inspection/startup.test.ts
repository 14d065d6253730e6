/**
 * `npm run inspect` (`src/main.ts --inspect`) as a real process: one command starts the relay
 * and the service, and a production process rejects live inspection at start-up.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { afterAll, describe, expect, it } from "vitest";
import { findFreePort, waitFor } from "../support/processes.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dataDirectory = mkdtempSync(join(tmpdir(), "mfa-inspect-"));
afterAll(() => rmSync(dataDirectory, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startMain(args: string[], env: Record<string, string>): Started {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", DATA_DIR: dataDirectory, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

const PRODUCTION = { NODE_ENV: "production", SECRET: "s".repeat(32), RESEND_API_KEY: "re_unused" };

describe("start-up in production", () => {
  it("rejects INSPECT", async () => {
    const started = startMain([], { ...PRODUCTION, INSPECT: "1" });

    expect(await started.exited).toBe(1);
    expect(started.output()).toContain("INSPECT=1 is for development only and is rejected when NODE_ENV=production");
  });

  it("rejects npm run inspect", async () => {
    const started = startMain(["--inspect"], PRODUCTION);

    expect(await started.exited).toBe(1);
    expect(started.output()).toContain("is for development only and is rejected when NODE_ENV=production");
  });
});

// The first start creates the embedded database, which takes tens of seconds on a busy machine.
describe("npm run inspect", { timeout: 120_000 }, () => {
  it("starts the relay and the service together", async () => {
    const [relayPort, servicePort] = [await findFreePort(), await findFreePort()];
    const started = startMain(["--inspect"], {
      INSPECT: String(relayPort),
      PORT: String(servicePort),
      PASSWORD_HASH: "cheap",
      LOG_LEVEL: "info",
    });
    try {
      await waitFor(
        () => (started.output().includes("connected to the inspection relay") ? true : undefined),
        () => `the service connected to its relay; output:\n${started.output()}`,
        60_000,
      );
      expect(started.output()).toContain(`open http://127.0.0.1:${relayPort}/ in a browser`);
      const page = await fetch(`http://127.0.0.1:${relayPort}/`);
      expect(page.status).toBe(200);

      const viewer = new WebSocket(`ws://127.0.0.1:${relayPort}`);
      const received: { type: string; name?: string }[] = [];
      viewer.on("message", (data) => received.push(JSON.parse(data.toString())));
      await new Promise((resolve, reject) => {
        viewer.once("open", resolve);
        viewer.once("error", reject);
      });
      const flow = await fetch(`http://127.0.0.1:${servicePort}/v1/flows`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ kind: "login" }),
      });
      expect(flow.status).toBe(201);
      await waitFor(
        () => (received.some((message) => message.type === "@xstate.actor") ? true : undefined),
        () => `the new flow's actor at the viewer; received ${JSON.stringify(received)}`,
      );
      viewer.terminate();
    } finally {
      started.child.kill("SIGTERM");
    }
    expect(await started.exited).toBe(0);
  });
});
