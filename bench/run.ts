/**
 * `npm run bench`: sign-ins per second against the PostgreSQL floor. Starts PostgreSQL when
 * it is down, builds `bench_*` databases, runs the service on them with mail going through
 * the Resend SDK to an in-process imitation of Resend, drives it with closed-loop virtual
 * users, prints the figures and writes them as JSON. Every database it made is dropped at
 * the end, also after a failure or Ctrl-C.
 */
import { mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hash } from "@node-rs/argon2";
import { CHEAP_ARGON2, PRODUCTION_ARGON2 } from "../src/passwords.js";
import { RESEND_TEST_KEY, type ResendImitation, startResendImitation } from "../test/support/resend-imitation.js";
import { BENCH_PASSWORD, BenchDatabases, databaseUrl, ensurePostgres, setBenchPasswordHash } from "./database.js";
import { runFloor } from "./floor.js";
import { type HashCeiling, measureHashCeiling } from "./hash-ceiling.js";
import {
  busyShare,
  describeMachine,
  readLoadAverage,
  readMachineCpu,
  readPeakRssMiB,
  readProcessCpuMs,
  readProcessSyscalls,
} from "./machine.js";
import { type BenchOptions, type HashSetting, USAGE, parseOptions } from "./options.js";
import { type ProfileSummary, summarizeProfile } from "./profile.js";
import { type Phase, printFloor, printPhase, printScale, printTargets, evaluateTargets, compareScale } from "./report.js";
import { profileDir, startServer } from "./server.js";
import { CodeMailbox, runSignIns } from "./sign-ins.js";
import { round } from "./stats.js";

const HASH_CEILING_MS = 5_000;

interface Context {
  options: BenchOptions;
  databases: BenchDatabases;
  imitation: ResendImitation;
  mailbox: CodeMailbox;
  artifactsDir: string;
  passwordHashes: Record<HashSetting, string>;
  profiles: Record<string, ProfileSummary>;
}

/** Picks the main thread's profile: the largest, since worker threads (if any) mostly idle. */
function mainThreadProfile(dir: string): string {
  const files = readdirSync(dir).map((file) => join(dir, file));
  const largest = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (!largest) throw new Error(`No CPU profile was written to ${dir}.`);
  return largest;
}

/**
 * Measures the floor at each virtual-user count, on a copy of `template`, and adds it to the
 * phases of that count. It runs after every service phase: a phase that followed the floor's
 * burst of about 50,000 transactions ran at half the sign-ins per second, with stalls of up
 * to a second, for a reason not yet found.
 */
async function addFloors(context: Context, template: string, phases: Phase[]): Promise<void> {
  const { options, databases } = context;
  const name = await databases.copy(template);
  try {
    console.log("\nFloor (measured after the service phases):");
    for (const virtualUsers of options.virtualUsers) {
      const floor = await runFloor({
        databaseUrl: databaseUrl(options.adminUrl, name),
        concurrency: virtualUsers,
        poolSize: options.poolSize,
        warmupMs: Math.min(2_000, options.warmupMs),
        durationMs: Math.min(10_000, options.durationMs),
      });
      for (const phase of phases.filter((candidate) => candidate.virtualUsers === virtualUsers)) {
        phase.floor = floor;
        phase.codeToFloorRatio = round(phase.steps.submitCode.p50Ms / floor.transaction.p50Ms, 2);
      }
      printFloor(virtualUsers, floor, phases);
    }
  } finally {
    await databases.drop(name);
  }
}

/** Starts the service on a copy of `template` and runs one phase per virtual-user count. */
async function runPhases(
  context: Context,
  template: string,
  setting: HashSetting,
  label: string,
): Promise<Phase[]> {
  const { options, databases } = context;
  const name = await databases.copy(template);
  const url = databaseUrl(options.adminUrl, name);
  if (setting !== "cheap") await setBenchPasswordHash(url, context.passwordHashes[setting]);

  const server = await startServer({
    databaseUrl: url,
    port: options.port,
    passwordHash: setting,
    resendUrl: context.imitation.url,
    resendApiKey: RESEND_TEST_KEY,
    artifactsDir: context.artifactsDir,
    label,
    profile: options.profile,
    nodeFlags: options.nodeFlags,
    env: { DATABASE_POOL_SIZE: String(options.poolSize) },
  });
  const phases: Phase[] = [];
  try {
    for (const virtualUsers of options.virtualUsers) {
      const loadBefore = readLoadAverage();

      let serverCpuStart = 0;
      let serverCpuMs = 0;
      let syscallsStart = { reads: 0, writes: 0 };
      let syscalls = { reads: Number.NaN, writes: Number.NaN };
      let machineStart = readMachineCpu();
      let machineBusy = Number.NaN;
      let generatorStart = process.cpuUsage();
      let generatorCpuMs = 0;
      const result = await runSignIns({
        url: server.url,
        virtualUsers,
        warmupMs: options.warmupMs,
        durationMs: options.durationMs,
        mailbox: context.mailbox,
        onWindow: (edge) => {
          if (edge === "start") {
            serverCpuStart = readProcessCpuMs(server.pid);
            syscallsStart = readProcessSyscalls(server.pid);
            machineStart = readMachineCpu();
            generatorStart = process.cpuUsage();
          } else {
            serverCpuMs = readProcessCpuMs(server.pid) - serverCpuStart;
            const syscallsEnd = readProcessSyscalls(server.pid);
            syscalls = { reads: syscallsEnd.reads - syscallsStart.reads, writes: syscallsEnd.writes - syscallsStart.writes };
            machineBusy = busyShare(machineStart, readMachineCpu());
            const generator = process.cpuUsage(generatorStart);
            generatorCpuMs = (generator.user + generator.system) / 1000;
          }
        },
      });
      const phase: Phase = {
        label,
        hash: setting,
        ...result,
        floor: null,
        codeToFloorRatio: null,
        serverCpuMsPerFlow: result.flows > 0 ? round(serverCpuMs / result.flows, 2) : null,
        serverSyscallsPerFlow:
          result.flows > 0
            ? { reads: round(syscalls.reads / result.flows, 1), writes: round(syscalls.writes / result.flows, 1) }
            : null,
        serverPeakRssMiB: round(readPeakRssMiB(server.pid), 1),
        generatorCpuShare: round(generatorCpuMs / options.durationMs, 2),
        machineBusyShare: round(machineBusy, 2),
        loadAverageBefore: loadBefore,
        loadAverageAfter: readLoadAverage(),
      };
      printPhase(phase);
      phases.push(phase);
    }
  } finally {
    await server.stop();
    await databases.drop(name);
  }
  if (options.profile) {
    const profile = summarizeProfile(mainThreadProfile(profileDir(context.artifactsDir, label)));
    context.profiles[label] = profile;
    console.log(`\nServer profile (${label}): ${profile.totalMs} ms busy; self time by area:`);
    for (const entry of profile.byArea.slice(0, 15)) {
      console.log(`  ${String(entry.selfMs).padStart(7)} ms ${(entry.share * 100).toFixed(1).padStart(5)} %  ${entry.name}`);
    }
    console.log("  top functions:");
    for (const entry of profile.byFunction.slice(0, 15)) {
      console.log(`  ${String(entry.selfMs).padStart(7)} ms ${(entry.share * 100).toFixed(1).padStart(5)} %  ${entry.name}`);
    }
  }
  return phases;
}

async function main(): Promise<number> {
  let options: BenchOptions | null;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (!options) {
    console.log(USAGE);
    return 0;
  }

  await ensurePostgres(options.adminUrl);
  const databases = new BenchDatabases(options.adminUrl);
  const imitation = await startResendImitation();
  const artifactsDir = mkdtempSync(join(tmpdir(), "mfa-bench-"));
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    console.error("\nInterrupted: dropping the bench databases.");
    void databases.close().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    const machine = describeMachine();
    const postgresSettings = await databases.describeServer();
    console.log(
      `Machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryMiB} MiB, Node ${machine.node}; ` +
        `PostgreSQL ${postgresSettings.server_version}, shared_buffers ${postgresSettings.shared_buffers}, ` +
        `synchronous_commit ${postgresSettings.synchronous_commit}, fsync ${postgresSettings.fsync}.`,
    );
    console.log(`Load average at start: ${readLoadAverage().join(" ")}. Server logs in ${artifactsDir}.`);

    const passwordHashes: Record<HashSetting, string> = {
      cheap: await hash(BENCH_PASSWORD, CHEAP_ARGON2),
      production: await hash(BENCH_PASSWORD, PRODUCTION_ARGON2),
    };
    const context: Context = {
      options,
      databases,
      imitation,
      mailbox: new CodeMailbox(imitation),
      artifactsDir,
      passwordHashes,
      profiles: {},
    };
    const report: Record<string, unknown> = {
      command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim(),
      startedAt: new Date().toISOString(),
      machine: { ...machine, postgres: postgresSettings },
      options: { ...options, adminUrl: undefined },
    };

    let exitCode = 0;
    if (options.scale) {
      const setting = options.hashes[0] as HashSetting;
      console.log("\nBuilding the empty and the scale templates (the fill takes minutes).");
      const empty = await databases.createTemplate("empty", passwordHashes.cheap, false);
      const started = Date.now();
      const scaled = await databases.createTemplate("scale", passwordHashes.cheap, true);
      report.scaleFillSeconds = Math.round((Date.now() - started) / 1000);
      const runs: Phase[] = [];
      for (let run = 1; run <= options.runs; run += 1) {
        for (const [label, template] of [["empty", empty], ["scale", scaled]] as const) {
          console.log(`\nRun ${run} of ${options.runs}, ${label} database`);
          runs.push(...(await runPhases(context, template, setting, `${label}-${run}`)));
        }
      }
      const comparison = compareScale(runs, options.virtualUsers);
      printScale(comparison);
      report.runs = runs;
      report.scale = comparison;
    } else {
      const template = await databases.createTemplate("empty", passwordHashes.cheap, false);
      const phases: Phase[] = [];
      let ceiling: HashCeiling | null = null;
      for (const setting of options.hashes) {
        if (setting === "production") {
          const loadBefore = readLoadAverage();
          ceiling = await measureHashCeiling(PRODUCTION_ARGON2, HASH_CEILING_MS);
          console.log(
            `\nArgon2id alone (${ceiling.concurrency} at once): ${ceiling.hashesPerSecond} hashes/s, ` +
              `${ceiling.msPerHash} ms CPU each (load ${loadBefore.join(" ")} -> ${readLoadAverage().join(" ")}).`,
          );
          report.hashCeiling = { ...ceiling, loadAverageBefore: loadBefore, loadAverageAfter: readLoadAverage() };
        }
        phases.push(...(await runPhases(context, template, setting, setting)));
      }
      await addFloors(context, template, phases);
      report.phases = phases;
      const targets = evaluateTargets(phases, ceiling);
      report.targets = targets;
      printTargets(targets);
      if (options.smoke) {
        const failures = phases.filter((phase) => phase.flows === 0 || Object.keys(phase.errors).length > 0);
        if (failures.length > 0) {
          console.error("Smoke run failed: a phase completed no sign-in or saw errors.");
          exitCode = 1;
        }
      }
    }
    if (options.profile) report.profiles = context.profiles;
    report.finishedAt = new Date().toISOString();
    report.loadAverageAtEnd = readLoadAverage();
    if (options.outFile) {
      writeFileSync(options.outFile, `${JSON.stringify(report, null, 2)}\n`);
      console.log(`\nFigures written to ${options.outFile}.`);
    }
    return exitCode;
  } finally {
    if (!interrupted) {
      await imitation.close();
      await databases.close();
    }
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
