/**
 * Runs the service as a child process (`src/main.ts` under tsx), as a deployment would, so
 * that tests can kill it, stop it with a signal and start it again. Every process started
 * here is killed by `stopServerProcesses()`, and by the test worker's exit as a last resort.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { RESEND_TEST_KEY } from "./resend-imitation.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const START_TIMEOUT_MS = 30_000;

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Every JSON log line the process wrote, parsed, in order. */
  logs: Record<string, unknown>[];
  /** What the process wrote that is not a JSON log line, such as a crash on standard error. */
  otherOutput: string[];
  /** Settles when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal and waits for the exit. */
  stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ServerProcessOptions {
  port: number;
  databaseUrl: string;
  /** The Resend imitation's address; without it mail goes to the development mailbox. */
  resendUrl?: string;
  env?: Record<string, string>;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Starts the service and waits until it listens. */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    PORT: String(options.port),
    HOST: "127.0.0.1",
    DATABASE_URL: options.databaseUrl,
    SECRET: "process-secret-process-secret-012345",
    PASSWORD_HASH: "cheap",
    RATE_LIMIT_PER_MINUTE: "0",
    DATABASE_POOL_SIZE: "5",
    ...(options.resendUrl ? { RESEND_API_KEY: RESEND_TEST_KEY, RESEND_BASE_URL: options.resendUrl } : {}),
    ...options.env,
  };
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  const logs: Record<string, unknown>[] = [];
  const errors: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });

  let buffered = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line));
      } catch {
        errors.push(line);
      }
    }
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => errors.push(chunk));

  const listening = await Promise.race([
    waitFor(() => logs.some((line) => line.msg === "listening"), START_TIMEOUT_MS).then(() => true),
    exited.then(() => false),
  ]);
  if (!listening) {
    child.kill("SIGKILL");
    throw new Error(
      `The service on port ${options.port} did not start.\n${errors.join("")}\n${logs.map((line) => JSON.stringify(line)).join("\n")}`,
    );
  }
  return {
    url: `http://127.0.0.1:${options.port}`,
    child,
    logs,
    otherOutput: errors,
    exited,
    async stop(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Kills every service process still running; for `afterAll`, also after a failure. */
export async function stopServerProcesses(): Promise<void> {
  const children = [...running];
  for (const child of children) child.kill("SIGKILL");
  await Promise.all(children.map((child) => new Promise((resolve) => child.once("exit", resolve))));
}

/** Polls until `condition` holds, or throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what = "condition") {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface HttpResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of many shapes
  body: any;
  headers: Headers;
}

/** Sends one JSON request to a service process. */
export async function callService(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<HttpResponse> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {}
  return { status: response.status, body: parsed, headers: response.headers };
}

/**
 * Returns why the tests that start service processes cannot run, or null when they can:
 * they need PostgreSQL, because the test and its processes share one database.
 */
export function processTestsSkipReason(file: string): string | null {
  if (process.env.DATABASE_URL) return null;
  const reason = "set DATABASE_URL to run it: the service processes it starts share one PostgreSQL database";
  console.warn(`${file} skipped: ${reason}.`);
  return reason;
}
