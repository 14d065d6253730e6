/**
 * How many Argon2id verifications per second this machine does with nothing else of the
 * benchmark running: every sign-in verifies one password, so this is the ceiling of sign-ins
 * per second with the production hash.
 */
import { availableParallelism } from "node:os";
import { hash, verify } from "@node-rs/argon2";
import { round } from "./stats.js";

export interface HashCeiling {
  parameters: { memoryCost: number; timeCost: number; parallelism: number };
  /** Verifications run at once: one per core, since each one keeps a core busy. */
  concurrency: number;
  hashesPerSecond: number;
  /** CPU time of one verification, in milliseconds. */
  msPerHash: number;
}

export async function measureHashCeiling(
  parameters: HashCeiling["parameters"],
  durationMs: number,
): Promise<HashCeiling> {
  const password = "hash ceiling password";
  const stored = await hash(password, parameters);
  const concurrency = availableParallelism();
  // One round first, so that the thread pool and the allocator are warm.
  await Promise.all(Array.from({ length: concurrency }, () => verify(stored, password)));

  let hashes = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await verify(stored, password);
        hashes += 1;
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    parameters,
    concurrency,
    hashesPerSecond: round(hashes / elapsedS, 1),
    msPerHash: round((cpu.user + cpu.system) / 1000 / hashes, 2),
  };
}
