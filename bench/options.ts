/** Command-line options of `npm run bench`. */
import { parseArgs } from "node:util";

export const USAGE = `Usage: npm run bench -- [out.json] [options]

Signs in with closed-loop virtual users against the service on a fresh PostgreSQL database,
measures the PostgreSQL floor, and prints the figures (also written to out.json when given).

  --smoke               a few seconds with the cheap hash only, for CI; fails on any error
  --scale               compares an empty database with one filled to scale, 3 runs each
  --hash <setting>      cheap, production or both (default: both; --scale: cheap)
  --vus <list>          virtual users per phase, comma-separated (default: 16,64)
  --warmup <seconds>    warm-up before each measured window (default: 5)
  --duration <seconds>  measured window of each phase (default: 20)
  --runs <n>            runs per database in --scale (default: 3)
  --profile             runs the service under --cpu-prof and prints where its time goes
  --port <n>            port of the service (default: a free one)
  --pool-size <n>       DATABASE_POOL_SIZE of the service and of the floor (default: 10)
  --node-flags=<flags>  extra Node.js flags for the service, space-separated, given with
                        "=", such as --node-flags="--max-semi-space-size=8 --trace-gc"
  --database-url <url>  PostgreSQL server to create the bench_* databases on
                        (default: postgres://postgres@127.0.0.1:5432/postgres)
  --help                prints this text`;

export type HashSetting = "cheap" | "production";

export interface BenchOptions {
  outFile: string | null;
  smoke: boolean;
  scale: boolean;
  hashes: HashSetting[];
  virtualUsers: number[];
  warmupMs: number;
  durationMs: number;
  runs: number;
  profile: boolean;
  port: number;
  poolSize: number;
  nodeFlags: string[];
  adminUrl: string;
}

function positiveNumber(name: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} must be a positive number, got "${value}".`);
  return parsed;
}

/** Parses the arguments, or throws an error that names the invalid option. */
export function parseOptions(argv: string[]): BenchOptions | null {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      smoke: { type: "boolean", default: false },
      scale: { type: "boolean", default: false },
      hash: { type: "string" },
      vus: { type: "string" },
      warmup: { type: "string" },
      duration: { type: "string" },
      runs: { type: "string", default: "3" },
      profile: { type: "boolean", default: false },
      port: { type: "string", default: "0" },
      "pool-size": { type: "string", default: "10" },
      "node-flags": { type: "string", default: "" },
      "database-url": { type: "string", default: "postgres://postgres@127.0.0.1:5432/postgres" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return null;
  if (positionals.length > 1) throw new Error(`Expected at most one output file, got: ${positionals.join(" ")}.`);
  if (values.smoke && values.scale) throw new Error("--smoke and --scale cannot be combined.");

  const hash = values.hash ?? (values.smoke || values.scale ? "cheap" : "both");
  if (!["cheap", "production", "both"].includes(hash)) {
    throw new Error(`--hash must be cheap, production or both, got "${hash}".`);
  }
  const vus = values.vus ?? (values.smoke ? "8" : "16,64");
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port must be a port number, got "${values.port}".`);

  return {
    outFile: positionals[0] ?? null,
    smoke: values.smoke,
    scale: values.scale,
    hashes: hash === "both" ? ["cheap", "production"] : [hash as HashSetting],
    virtualUsers: vus.split(",").map((value) => Math.round(positiveNumber("vus", value))),
    warmupMs: positiveNumber("warmup", values.warmup ?? (values.smoke ? "1" : "5")) * 1000,
    durationMs: positiveNumber("duration", values.duration ?? (values.smoke ? "4" : "20")) * 1000,
    runs: Math.round(positiveNumber("runs", values.runs)),
    profile: values.profile,
    port,
    poolSize: Math.round(positiveNumber("pool-size", values["pool-size"])),
    nodeFlags: values["node-flags"].split(" ").filter((flag) => flag.length > 0),
    adminUrl: values["database-url"],
  };
}
