/**
 * Runs the service as a child process, exactly as `npm start` would but on the benchmark's
 * database, so that its CPU time and peak memory can be read from /proc/<pid>.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const READY_TIMEOUT_MS = 60_000;

/**
 * Reads the Node.js flags of `npm start` from package.json, so that the benchmark runs the
 * service exactly as it is started.
 */
function startFlags(): string[] {
  const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } };
  const match = manifest.scripts.start.match(/^exec node ((?:--\S+ )*)dist\/src\/main\.js$/);
  if (!match) throw new Error(`Expected "exec node [flags] dist/src/main.js" as the start script, got "${manifest.scripts.start}".`);
  return (match[1] ?? "").split(" ").filter((flag) => flag.length > 0);
}

let built = false;

/** Compiles the service to dist/ as `npm start` does, once per benchmark run. */
function buildOnce(): void {
  if (built) return;
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: ROOT, stdio: "inherit" });
  built = true;
}

export interface ServerOptions {
  databaseUrl: string;
  /** 0 picks a free port. */
  port: number;
  passwordHash: "production" | "cheap";
  resendUrl: string;
  resendApiKey: string;
  /** Folder for the server's log and, with `profile`, its CPU profile. */
  artifactsDir: string;
  label: string;
  profile: boolean;
  /** Node.js flags placed before the script, such as `--max-semi-space-size=8`. */
  nodeFlags?: string[];
  /** Extra environment, such as `UV_THREADPOOL_SIZE`. */
  env?: Record<string, string>;
}

export interface RunningServer {
  pid: number;
  url: string;
  logFile: string;
  stop(): Promise<void>;
}

/** Folder of the CPU profiles of the server run labelled `label`. */
export function profileDir(artifactsDir: string, label: string): string {
  return join(artifactsDir, `${label}.cpuprofiles`);
}

/** Finds a free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Starts the service and waits until `/readyz` answers 200. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const port = options.port || (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(options.artifactsDir, `${options.label}.server.log`);
  const log = openSync(logFile, "a");

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: options.databaseUrl,
    PORT: String(port),
    HOST: "127.0.0.1",
    PASSWORD_HASH: options.passwordHash,
    RATE_LIMIT_PER_MINUTE: "0",
    RESEND_API_KEY: options.resendApiKey,
    RESEND_BASE_URL: options.resendUrl,
    SECRET: "bench-secret-bench-secret-bench-secret-0123",
    ...options.env,
  };
  // Development mode, as the benchmark is specified; production would reject the cheap hash.
  delete env.NODE_ENV;

  buildOnce();
  const args: string[] = [...startFlags(), ...(options.nodeFlags ?? [])];
  if (options.profile) {
    // Node writes one profile per thread, so each server gets a folder of its own.
    args.push("--cpu-prof", "--cpu-prof-dir", profileDir(options.artifactsDir, options.label));
  }
  args.push("dist/src/main.js");
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", log, log] });
  closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`The service exited with code ${child.exitCode}; see ${logFile}.`);
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.ok) break;
    } catch {}
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`The service did not become ready within ${READY_TIMEOUT_MS / 1000} s; see ${logFile}.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  return {
    pid: child.pid as number,
    url,
    logFile,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
