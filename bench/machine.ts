/** What the benchmark reads about the machine and about the server process from /proc. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryMiB: number;
  node: string;
}

export function describeMachine(): MachineInfo {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryMiB: Math.round(totalmem() / 2 ** 20),
    node: process.version,
  };
}

/** The 1-, 5- and 15-minute load averages, as `/proc/loadavg` has them. */
export function readLoadAverage(): [number, number, number] {
  const [one, five, fifteen] = readFileSync("/proc/loadavg", "utf8").split(" ").map(Number);
  return [one ?? Number.NaN, five ?? Number.NaN, fifteen ?? Number.NaN];
}

let clockTicks: number | null = null;

/** Kernel clock ticks per second, the unit of the CPU times in `/proc/<pid>/stat`. */
function ticksPerSecond(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User plus system CPU time that a process has used so far, in milliseconds. */
export function readProcessCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name may contain spaces, so fields are counted from its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / ticksPerSecond();
}

/**
 * Read and write system calls that a process has made so far (`syscr` and `syscw` of
 * `/proc/<pid>/io`), socket and file calls together. Unlike CPU time, these counts do not
 * grow when other work shares the cores, so they show round trips saved on a busy machine.
 */
export function readProcessSyscalls(pid: number): { reads: number; writes: number } {
  const io = readFileSync(`/proc/${pid}/io`, "utf8");
  const field = (name: string) => Number(io.match(new RegExp(`^${name}: (\\d+)$`, "m"))?.[1] ?? Number.NaN);
  return { reads: field("syscr"), writes: field("syscw") };
}

/** Peak resident set size of a process (`VmHWM`), in MiB. */
export function readPeakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = status.match(/^VmHWM:\s+(\d+) kB$/m);
  if (!match) throw new Error(`No VmHWM line in /proc/${pid}/status.`);
  return Number(match[1]) / 1024;
}

export interface CpuCounters {
  busy: number;
  total: number;
}

/** Busy and total jiffies of all cores together, from the first line of `/proc/stat`. */
export function readMachineCpu(): CpuCounters {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  const total = values.reduce((sum, value) => sum + value, 0);
  return { busy: total - idle, total };
}

/** Share of the machine's CPU time that was busy between two readings, from 0 to 1. */
export function busyShare(before: CpuCounters, after: CpuCounters): number {
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : Number.NaN;
}
