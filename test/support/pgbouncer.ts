/**
 * A PgBouncer in transaction pooling mode in front of a PostgreSQL server, started by a test
 * with its own configuration in a temp folder. PgBouncer does not run as root, so it runs
 * as the `postgres` user through `runuser` when the test runs as root.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { createPostgresFolder } from "./postgres-cluster.js";
import { waitFor } from "./server-process.js";

export const PGBOUNCER = process.env.PGBOUNCER ?? "/usr/sbin/pgbouncer";

export interface PgBouncer {
  port: number;
  /** `postgres://` URL of a database through PgBouncer. */
  urlOf(database: string): string;
  /** The log PgBouncer wrote so far. */
  log(): string;
  stop(): Promise<void>;
}

/** Returns why PgBouncer cannot run here, or null when it can. */
export function pgBouncerUnavailableReason(): string | null {
  if (!existsSync(PGBOUNCER)) return `${PGBOUNCER} is missing (apt-get install pgbouncer, or set PGBOUNCER)`;
  return null;
}

/** Renders a configuration with the settings that the README lists for the service. */
export function pgBouncerConfig(
  folder: string,
  port: number,
  serverHost: string,
  serverPort: number,
  extra: Record<string, string> = {},
): string {
  const settings: Record<string, string> = {
    listen_addr: "127.0.0.1",
    listen_port: String(port),
    unix_socket_dir: "",
    auth_type: "trust",
    auth_file: join(folder, "userlist.txt"),
    logfile: join(folder, "pgbouncer.log"),
    pool_mode: "transaction",
    max_client_conn: "200",
    default_pool_size: "20",
    query_wait_timeout: "10",
    ...extra,
  };
  const lines = Object.entries(settings).map(([name, value]) => `${name} = ${value}`);
  return `[databases]\n* = host=${serverHost} port=${serverPort}\n\n[pgbouncer]\n${lines.join("\n")}\n`;
}

/** Starts PgBouncer on 127.0.0.1:`port` in front of `serverHost:serverPort`, with `extra` settings. */
export async function startPgBouncer(
  port: number,
  serverHost: string,
  serverPort: number,
  extra: Record<string, string> = {},
): Promise<PgBouncer> {
  const folder = await createPostgresFolder("mfa-pgbouncer-");
  const configPath = join(folder, "pgbouncer.ini");
  await writeFile(join(folder, "userlist.txt"), '"postgres" ""\n', { mode: 0o644 });
  await writeFile(configPath, pgBouncerConfig(folder, port, serverHost, serverPort, extra), { mode: 0o644 });
  const asRoot = process.getuid?.() === 0;
  const child: ChildProcess = asRoot
    ? spawn("runuser", ["-u", "postgres", "--", PGBOUNCER, configPath], { stdio: "ignore" })
    : spawn(PGBOUNCER, [configPath], { stdio: "ignore" });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const readLog = () => {
    const path = join(folder, "pgbouncer.log");
    return existsSync(path) ? readFileSync(path, "utf8") : "";
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    await rm(folder, { recursive: true, force: true });
  };
  try {
    await waitFor(() => acceptsConnections(port), 15_000, `PgBouncer on port ${port}`);
  } catch (error) {
    const log = readLog();
    await stop();
    throw new Error(`${(error as Error).message}\n${log}`);
  }
  return {
    port,
    urlOf: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    log: readLog,
    stop,
  };
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
