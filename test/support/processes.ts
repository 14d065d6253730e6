/**
 * Real server processes (`node --import tsx src/main.ts`) on one PostgreSQL database, for
 * tests of what several processes do at once. Each process logs JSON lines to standard
 * output; the tests read them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const REPOSITORY = fileURLToPath(new URL("../..", import.meta.url));
/** Ports that test servers may listen on; `TEST_PORTS=4400-4449` sets the range. */
const [PORT_MIN, PORT_MAX] = (process.env.TEST_PORTS ?? "4400-4449").split("-").map(Number) as [number, number];
const START_TIMEOUT_MS = 30_000;

export interface ServerProcess {
  url: string;
  /** Parsed log lines of the process, in order. */
  logs: Record<string, unknown>[];
  /** Sends SIGTERM and waits for the process to exit. */
  stop(): Promise<void>;
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/** Returns a free port of the test range, trying them from a random point. */
export async function findFreePort(): Promise<number> {
  const count = PORT_MAX - PORT_MIN + 1;
  const offset = Math.floor(Math.random() * count);
  for (let i = 0; i < count; i += 1) {
    const port = PORT_MIN + ((offset + i) % count);
    if (await isPortFree(port)) return port;
  }
  throw new Error(`No free port in ${PORT_MIN}-${PORT_MAX}; set TEST_PORTS to another range.`);
}

/** Starts one server process with the given environment and waits until it listens. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await findFreePort();
    try {
      return await spawnServer({ ...env, PORT: String(port), HOST: "127.0.0.1" });
    } catch (error) {
      // Another test file may have taken the port between the probe and the start.
      if (attempt >= 3 || !String(error).includes("EADDRINUSE")) throw error;
    }
  }
}

function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: REPOSITORY,
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Record<string, unknown>[] = [];
  let output = "";
  let pending = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  return new Promise<ServerProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`The server process did not start in ${START_TIMEOUT_MS} ms:\n${output}`));
    }, START_TIMEOUT_MS);

    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.trim()) continue;
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(line);
        } catch {
          parsed = { msg: line };
        }
        logs.push(parsed);
        if (parsed.msg === "listening") {
          clearTimeout(timer);
          resolve({
            url: String(parsed.url),
            logs,
            async stop() {
              if (child.exitCode === null) child.kill("SIGTERM");
              await exited;
            },
          });
        }
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`The server process exited with ${code} before listening:\n${output}`));
    });
  });
}

export interface HttpResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are JSON of many shapes
  body: any;
  headers: Headers;
}

/** Sends a JSON request to a server process. */
export async function httpRequest(
  url: string,
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResponse> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {}
  return { status: response.status, body: parsed, headers: response.headers };
}

/** Polls `check` until it returns a value, up to `timeoutMs`; throws with `describe()` after. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  describe: () => string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
