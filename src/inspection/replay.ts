/**
 * A flow's journal as a replay for the Stately inspector: the flow's actor with the machine
 * definition, then each journal entry's event and the snapshot it led to, oldest first. Events
 * and the context pass through the same allow-lists as live inspection.
 */
import { asc, eq } from "drizzle-orm";
import type { AnyStateMachine } from "xstate";
import type { Database } from "../../db/client.js";
import { flowJournal, flows } from "../../db/schema.js";
import { type FlowKind, flowDefinitions } from "../../machines/index.js";
import { restoreSnapshot } from "../flows/snapshots.js";
import { inspectionSessionId, toInspectedContext, toInspectedEvent } from "./sanitize.js";

export interface ReplayStep {
  /** The entry's event type and outcome (`ok` or an error code), through the allow-list. */
  event: { type: string } & Record<string, unknown>;
  /** The state after the entry; the last step also carries the stored context. */
  snapshot: { status: "active" | "done"; value: string; context?: Record<string, unknown> };
  createdAt: string;
}

export interface FlowReplay {
  kind: string;
  /** The flow's session id in the inspector, the same as live inspection uses. */
  sessionId: string;
  /** The machine's config as the inspector reads it; null when this build has no such machine. */
  definition: unknown;
  /** Starts with the `xstate.init` entry of the flow's creation. */
  steps: ReplayStep[];
}

/** Loads the replay of a flow, or null when there is no such flow. */
export async function loadFlowReplay(db: Database, flowId: string): Promise<FlowReplay | null> {
  const [[row], entries] = await Promise.all([
    db.select().from(flows).where(eq(flows.id, flowId)).limit(1),
    db.select().from(flowJournal).where(eq(flowJournal.flowId, flowId)).orderBy(asc(flowJournal.id)),
  ]);
  if (!row) return null;

  const definition = Object.hasOwn(flowDefinitions, row.kind) ? flowDefinitions[row.kind as FlowKind] : null;
  const sameVersion = definition !== null && definition.version === row.machineVersion;
  const machine = sameVersion ? (definition.machine as AnyStateMachine) : null;
  const steps: ReplayStep[] = entries.map((entry) => ({
    event: toInspectedEvent({ type: entry.eventType, outcome: entry.outcome }),
    snapshot: { status: isFinalState(machine, entry.state) ? "done" : "active", value: entry.state },
    createdAt: entry.createdAt.toISOString(),
  }));
  const current = machine ? restoreSnapshot(machine, row.snapshot) : null;
  const last = steps.at(-1);
  if (last && current) last.snapshot.context = toInspectedContext(current.context);

  return {
    kind: row.kind,
    sessionId: inspectionSessionId(row.kind, row.id),
    definition: machine ? toInspectorDefinition(machine) : null,
    steps,
  };
}

function isFinalState(machine: AnyStateMachine | null, state: string): boolean {
  return machine?.root.states[state]?.type === "final";
}

/**
 * Returns the machine's config as `inspector.actor()` serializes it: functions, such as a
 * composite guard, become `{ type: name }`.
 */
function toInspectorDefinition(machine: AnyStateMachine): unknown {
  const text = JSON.stringify(machine.config, (_key, value: unknown) =>
    typeof value === "function" ? { type: value.name } : value,
  );
  return JSON.parse(text);
}
