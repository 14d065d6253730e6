/** Printing the benchmark's figures, and checking them against the targets. */
import type { FloorResult } from "./floor.js";
import type { HashCeiling } from "./hash-ceiling.js";
import type { HashSetting } from "./options.js";
import { STEPS, type SignInResult } from "./sign-ins.js";
import { median, round } from "./stats.js";

/** One measured window: a hash setting at one number of virtual users. */
export interface Phase extends SignInResult {
  label: string;
  hash: HashSetting;
  floor: FloorResult | null;
  /** Median code-submission latency over the floor's median transaction latency. */
  codeToFloorRatio: number | null;
  serverCpuMsPerFlow: number | null;
  /** Read and write system calls of the server per sign-in: sockets, log file and thread pool. */
  serverSyscallsPerFlow: { reads: number; writes: number } | null;
  serverPeakRssMiB: number;
  /** Cores' worth of CPU that the load generator (with the Resend imitation) used. */
  generatorCpuShare: number;
  /** Busy share of all cores of the machine during the window. */
  machineBusyShare: number;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
}

const pad = (value: unknown, width: number) => String(value).padStart(width);

export function printPhase(phase: Phase): void {
  console.log(
    `\n${phase.label}: ${phase.hash} hash, ${phase.virtualUsers} virtual users, ${phase.durationS} s ` +
      `(load average ${phase.loadAverageBefore[0]} -> ${phase.loadAverageAfter[0]})`,
  );
  console.log(
    `  sign-ins/s ${phase.flowsPerSecond} (with a code ${phase.codeFlowsPerSecond}, ` +
      `trusted device ${phase.trustedFlowsPerSecond})`,
  );
  console.log(`  ${"step".padEnd(20)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("count", 8)}`);
  for (const step of STEPS) {
    const summary = phase.steps[step];
    console.log(`  ${step.padEnd(20)}${pad(summary.p50Ms, 9)}${pad(summary.p99Ms, 9)}${pad(summary.count, 8)}`);
  }
  console.log(
    `  ${"whole sign-in".padEnd(20)}${pad(phase.flow.p50Ms, 9)}${pad(phase.flow.p99Ms, 9)}${pad(phase.flow.count, 8)}`,
  );
  if (phase.floor) {
    const { transaction, transactionsPerSecond, poolSize } = phase.floor;
    console.log(
      `  ${"floor transaction".padEnd(20)}${pad(transaction.p50Ms, 9)}${pad(transaction.p99Ms, 9)}${pad(transaction.count, 8)}` +
        `  (${transactionsPerSecond} tx/s, ${poolSize} connections)`,
    );
    console.log(`  code submission p50 / floor p50: ${phase.codeToFloorRatio}`);
  }
  console.log(
    `  server CPU per sign-in ${phase.serverCpuMsPerFlow} ms, server peak RSS ${phase.serverPeakRssMiB} MiB, ` +
      `load generator ${phase.generatorCpuShare} cores, machine busy ${Math.round(phase.machineBusyShare * 100)} %`,
  );
  if (phase.serverSyscallsPerFlow) {
    const { reads, writes } = phase.serverSyscallsPerFlow;
    console.log(`  server system calls per sign-in: ${reads} reads, ${writes} writes`);
  }
  const errors = Object.entries(phase.errors);
  if (errors.length > 0) console.log(`  errors: ${errors.map(([key, count]) => `${key} x${count}`).join(", ")}`);
}

export interface Target {
  name: string;
  value: number | null;
  limit: number;
  met: boolean;
}

/** Checks the product's targets; a target whose phase did not run is left out. */
/** Prints the floor at one virtual-user count and each phase's ratio to it. */
export function printFloor(virtualUsers: number, floor: FloorResult, phases: Phase[]): void {
  const { transaction, transactionsPerSecond, poolSize } = floor;
  console.log(
    `  ${virtualUsers} at once: p50 ${transaction.p50Ms} ms, p99 ${transaction.p99Ms} ms, ` +
      `${transactionsPerSecond} tx/s, ${poolSize} connections`,
  );
  for (const phase of phases.filter((candidate) => candidate.virtualUsers === virtualUsers)) {
    console.log(`    ${phase.label}: code submission p50 / floor p50: ${phase.codeToFloorRatio}`);
  }
}

export function evaluateTargets(phases: Phase[], ceiling: HashCeiling | null): Target[] {
  const targets: Target[] = [];
  const find = (hash: HashSetting, virtualUsers: number) =>
    phases.find((phase) => phase.hash === hash && phase.virtualUsers === virtualUsers);
  const cheap16 = find("cheap", 16);
  if (cheap16) {
    targets.push({
      name: "cheap hash, 16 virtual users: sign-ins with a code per second >= 200",
      value: cheap16.codeFlowsPerSecond,
      limit: 200,
      met: cheap16.codeFlowsPerSecond >= 200,
    });
  }
  for (const phase of phases.filter((candidate) => candidate.hash === "cheap" && candidate.codeToFloorRatio !== null)) {
    targets.push({
      name: `cheap hash, ${phase.virtualUsers} virtual users: code submission p50 / floor p50 <= 2`,
      value: phase.codeToFloorRatio,
      limit: 2,
      met: (phase.codeToFloorRatio ?? Number.POSITIVE_INFINITY) <= 2,
    });
  }
  if (ceiling) {
    for (const phase of phases.filter((candidate) => candidate.hash === "production")) {
      const share = round(phase.flowsPerSecond / ceiling.hashesPerSecond, 2);
      targets.push({
        name: `production hash, ${phase.virtualUsers} virtual users: sign-ins/s / Argon2id hashes/s >= 0.7`,
        value: share,
        limit: 0.7,
        met: share >= 0.7,
      });
    }
  }
  for (const phase of phases.filter((candidate) => candidate.virtualUsers === 64)) {
    targets.push({
      name: `${phase.hash} hash, 64 virtual users: server peak RSS < 250 MB`,
      value: round((phase.serverPeakRssMiB * 2 ** 20) / 1e6, 1),
      limit: 250,
      met: (phase.serverPeakRssMiB * 2 ** 20) / 1e6 < 250,
    });
  }
  return targets;
}

export function printTargets(targets: Target[]): void {
  if (targets.length === 0) return;
  console.log("\nTargets:");
  for (const target of targets) console.log(`  ${target.met ? "met    " : "NOT MET"}  ${target.name}: ${target.value}`);
}

export interface ScaleComparison {
  virtualUsers: number;
  empty: { flowsPerSecond: number; flowP99Ms: number; submitCodeP99Ms: number };
  scale: { flowsPerSecond: number; flowP99Ms: number; submitCodeP99Ms: number };
  /** Scale median over empty median. */
  throughputRatio: number;
  flowP99Ratio: number;
  submitCodeP99Ratio: number;
  /** Throughput within 10 % and whole sign-in p99 within 25 % of the empty database. */
  met: boolean;
}

/** Compares the medians over the runs of the empty and of the filled database. */
export function compareScale(runs: Phase[], virtualUsersList: number[]): ScaleComparison[] {
  return virtualUsersList.map((virtualUsers) => {
    const medians = (prefix: string) => {
      const matching = runs.filter((run) => run.label.startsWith(prefix) && run.virtualUsers === virtualUsers);
      return {
        flowsPerSecond: round(median(matching.map((run) => run.flowsPerSecond)), 1),
        flowP99Ms: round(median(matching.map((run) => run.flow.p99Ms))),
        submitCodeP99Ms: round(median(matching.map((run) => run.steps.submitCode.p99Ms))),
      };
    };
    const empty = medians("empty-");
    const scale = medians("scale-");
    const throughputRatio = round(scale.flowsPerSecond / empty.flowsPerSecond, 3);
    const flowP99Ratio = round(scale.flowP99Ms / empty.flowP99Ms, 3);
    const submitCodeP99Ratio = round(scale.submitCodeP99Ms / empty.submitCodeP99Ms, 3);
    return {
      virtualUsers,
      empty,
      scale,
      throughputRatio,
      flowP99Ratio,
      submitCodeP99Ratio,
      met: throughputRatio >= 0.9 && flowP99Ratio <= 1.25,
    };
  });
}

export function printScale(comparisons: ScaleComparison[]): void {
  console.log("\nScale (medians of the runs; filled over empty):");
  for (const row of comparisons) {
    console.log(
      `  ${row.virtualUsers} virtual users: sign-ins/s ${row.empty.flowsPerSecond} -> ${row.scale.flowsPerSecond} ` +
        `(x${row.throughputRatio}), sign-in p99 ${row.empty.flowP99Ms} -> ${row.scale.flowP99Ms} ms (x${row.flowP99Ratio}), ` +
        `code submission p99 ${row.empty.submitCodeP99Ms} -> ${row.scale.submitCodeP99Ms} ms (x${row.submitCodeP99Ratio}): ` +
        `${row.met ? "met" : "NOT MET"}`,
    );
  }
}
