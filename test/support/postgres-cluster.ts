/**
 * A PostgreSQL cluster of a test's own, made with `initdb` and run with `pg_ctl` in a temp
 * folder, so that the test may stop and start it. Both programs refuse to run as root, so
 * they run as the `postgres` user through `runuser` when the test runs as root.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
export const POSTGRES_BIN = process.env.POSTGRES_BIN ?? "/usr/lib/postgresql/15/bin";

export interface PostgresCluster {
  port: number;
  /** `postgres://` URL of a database in the cluster. */
  urlOf(database: string): string;
  start(): Promise<void>;
  /** Stops the server; `immediate` aborts it as a crash would, `fast` as a planned restart. */
  stop(mode: "fast" | "immediate"): Promise<void>;
  /** Stops the server and removes its folder. */
  destroy(): Promise<void>;
}

/** Returns why clusters cannot be made here, or null when they can. */
export function clusterUnavailableReason(): string | null {
  if (!existsSync(join(POSTGRES_BIN, "initdb"))) return `no initdb in ${POSTGRES_BIN} (set POSTGRES_BIN)`;
  return null;
}

/** Runs a program as the `postgres` user when this process is root, else as itself. */
export async function runAsPostgres(program: string, args: string[], timeoutMs = 60_000) {
  const asRoot = process.getuid?.() === 0;
  const [file, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", program, ...args]] : [program, args];
  return run(file, argv, { timeout: timeoutMs });
}

/** Folder owned by the `postgres` user when this process is root. */
export async function createPostgresFolder(prefix: string): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), prefix));
  if (process.getuid?.() === 0) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: group } = await run("id", ["-g", "postgres"]);
    await chown(folder, Number(stdout.trim()), Number(group.trim()));
  }
  return folder;
}

/** Creates a cluster in a temp folder and starts it on 127.0.0.1:`port`. */
export async function startPostgresCluster(port: number): Promise<PostgresCluster> {
  const folder = await createPostgresFolder("mfa-pg-");
  const data = join(folder, "data");
  let running = false;
  const cluster: PostgresCluster = {
    port,
    urlOf: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async start() {
      // fsync is off: the tests stop the server, never the machine.
      const options = `-p ${port} -k ${folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
      await runAsPostgres(join(POSTGRES_BIN, "pg_ctl"), ["-D", data, "-o", options, "-l", join(folder, "server.log"), "-w", "-t", "60", "start"]);
      running = true;
    },
    async stop(mode) {
      await runAsPostgres(join(POSTGRES_BIN, "pg_ctl"), ["-D", data, "-m", mode, "-w", "-t", "60", "stop"]);
      running = false;
    },
    async destroy() {
      try {
        if (running) await cluster.stop("immediate");
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    },
  };
  try {
    await runAsPostgres(join(POSTGRES_BIN, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]);
    await cluster.start();
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
  return cluster;
}
