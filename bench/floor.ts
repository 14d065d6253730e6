/**
 * The PostgreSQL floor: transactions of the same shape as one flow event, sent with
 * postgres.js and the service's connection settings, at the benchmark's concurrency. Each
 * transaction locks a flow row, writes a new snapshot and inserts a journal row, as the
 * service does for every event; the update and the insert go out together, as the service
 * sends its writes, so the floor is the fewest round trips that this shape allows.
 */
import postgres from "postgres";
import { type LatencySummary, round, summarize } from "./stats.js";

export interface FloorOptions {
  databaseUrl: string;
  concurrency: number;
  /** Connections, as the service's `DATABASE_POOL_SIZE`. */
  poolSize: number;
  warmupMs: number;
  durationMs: number;
}

export interface FloorResult {
  concurrency: number;
  poolSize: number;
  transactionsPerSecond: number;
  transaction: LatencySummary;
}

/** A login flow's stored snapshot while a code is outstanding, of the service's size. */
function snapshotOf(version: number) {
  const now = Date.now();
  return {
    value: version % 2 === 0 ? "authenticated" : "awaitingCode",
    context: {
      limits: { codeTtlMs: 600_000, flowTtlMs: 900_000, maxWrongSubmissions: 5, maxCodesPerFlow: 5, resendCooldownMs: 60_000 },
      userId: "bench-user-floor-000000",
      sentTo: "b***@example.com",
      expiresAt: now + 900_000,
      wrongSubmissions: 0,
      codeHash: version % 2 === 0 ? null : "5f".repeat(32),
      codeExpiresAt: version % 2 === 0 ? null : now + 600_000,
      codesSent: 1,
      resendAvailableAt: version % 2 === 0 ? null : now + 60_000,
    },
  };
}

/** Runs the floor's transactions through a warm-up and a measured window. */
export async function runFloor(options: FloorOptions): Promise<FloorResult> {
  const sql = postgres(options.databaseUrl, { max: options.poolSize, fetch_types: false, onnotice: () => {} });
  try {
    await sql`create table if not exists bench_floor_flows (
      id text primary key, version integer not null, state text not null, snapshot jsonb not null,
      updated_at timestamptz not null default now())`;
    await sql`create table if not exists bench_floor_journal (
      id bigserial primary key, flow_id text not null, flow_version integer not null, event_type text not null,
      outcome text not null, state text not null, created_at timestamptz not null default now())`;
    await sql`create index if not exists bench_floor_journal_flow_id_idx on bench_floor_journal (flow_id, id)`;
    await sql`truncate bench_floor_flows, bench_floor_journal`;
    const ids = Array.from({ length: options.concurrency }, (_, index) => `floor-${index}-${Date.now()}`);
    await sql`insert into bench_floor_flows ${sql(
      ids.map((id) => ({ id, version: 1, state: "awaitingCode", snapshot: snapshotOf(1) })),
    )}`;

    const samples: number[] = [];
    let transactions = 0;
    const windowStart = performance.now() + options.warmupMs;
    const windowEnd = windowStart + options.durationMs;

    async function worker(id: string): Promise<void> {
      while (performance.now() < windowEnd) {
        const started = performance.now();
        await sql.begin(async (tx) => {
          const [row] = await tx<{ version: number }[]>`
            select version from bench_floor_flows where id = ${id} for update`;
          const version = (row?.version ?? 0) + 1;
          const snapshot = snapshotOf(version);
          await Promise.all([
            tx`update bench_floor_flows
              set snapshot = ${tx.json(snapshot)}, state = ${snapshot.value}, version = ${version}, updated_at = now()
              where id = ${id}`,
            tx`insert into bench_floor_journal (flow_id, flow_version, event_type, outcome, state)
              values (${id}, ${version}, 'SUBMIT_CODE', 'ok', ${snapshot.value})`,
          ]);
        });
        const finished = performance.now();
        if (started >= windowStart && finished <= windowEnd) {
          samples.push(finished - started);
          transactions += 1;
        }
      }
    }

    await Promise.all(ids.map((id) => worker(id)));
    return {
      concurrency: options.concurrency,
      poolSize: options.poolSize,
      transactionsPerSecond: round(transactions / (options.durationMs / 1000), 1),
      transaction: summarize(samples),
    };
  } finally {
    await sql`drop table if exists bench_floor_flows, bench_floor_journal`.catch(() => {});
    await sql.end({ timeout: 5 });
  }
}
