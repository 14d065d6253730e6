/**
 * The check of a flow's stored snapshot on its way back into the machine. A row written by
 * hand, by a bug or by another version is reported as `flow_expired` and never reaches the
 * machine or the flow view half-formed.
 */
import type { AnyMachineSnapshot, AnyStateMachine } from "xstate";
import { z } from "zod";
import type { FlowContext } from "../../machines/index.js";

const time = z.number().int().nonnegative();
const count = z.number().int().nonnegative();

const storedContextSchema = z.object({
  limits: z.object({
    codeTtlMs: count,
    flowTtlMs: count,
    maxWrongSubmissions: count,
    maxCodesPerFlow: count,
    resendCooldownMs: count,
  }),
  userId: z.string().nullable(),
  sentTo: z.string().nullable(),
  expiresAt: time,
  wrongSubmissions: count,
  codeHash: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  codeExpiresAt: time.nullable(),
  codesSent: count,
  resendAvailableAt: time.nullable(),
});

const storedSnapshotSchema = z.object({ value: z.string().min(1), context: storedContextSchema });

/**
 * Rebuilds a snapshot from its stored form. Returns null when the stored form does not fit the
 * machine, such as a malformed context or a state that the machine does not have.
 */
export function restoreSnapshot(machine: AnyStateMachine, stored: unknown): AnyMachineSnapshot | null {
  const parsed = storedSnapshotSchema.safeParse(stored);
  if (!parsed.success || !Object.hasOwn(machine.root.states, parsed.data.value)) return null;
  try {
    return machine.resolveState({ value: parsed.data.value, context: parsed.data.context as FlowContext });
  } catch {
    return null;
  }
}
