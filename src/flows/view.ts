/** The flow object that every flow response shows. */
import type { AnyMachineSnapshot } from "xstate";
import { type FlowContext, type FlowKind, attemptsRemaining } from "../../machines/index.js";

/** Event types that clients may send; `EXPIRE` is the runtime's own. */
const CLIENT_EVENT_TYPES = new Set(["SUBMIT_CREDENTIALS", "SUBMIT_PASSWORD", "SUBMIT_CODE", "RESEND_CODE", "CANCEL"]);

export interface LoginOutput {
  sessionToken: string;
  sessionExpiresAt: string;
  deviceToken?: string;
  deviceTrustExpiresAt?: string;
}

export interface FlowView {
  id: string;
  kind: FlowKind;
  state: string;
  status: "active" | "done";
  nextEvents: string[];
  expiresAt: string;
  codeExpiresAt?: string;
  resendAvailableAt?: string;
  attemptsRemaining?: number;
  sentTo?: string;
  output?: LoginOutput;
}

/** Lists the client event types that the snapshot's current state accepts. */
export function acceptedEventTypes(snapshot: AnyMachineSnapshot): string[] {
  if (snapshot.status !== "active") return [];
  const types = new Set<string>();
  for (const node of snapshot._nodes) {
    for (const type of node.ownEvents) if (CLIENT_EVENT_TYPES.has(type)) types.add(type);
  }
  return [...types];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Builds the public flow object from a snapshot. */
export function toFlowView(id: string, kind: FlowKind, snapshot: AnyMachineSnapshot, output?: LoginOutput): FlowView {
  const context = snapshot.context as FlowContext;
  const active = snapshot.status === "active";
  const view: FlowView = {
    id,
    kind,
    state: String(snapshot.value),
    status: active ? "active" : "done",
    nextEvents: acceptedEventTypes(snapshot),
    expiresAt: iso(context.expiresAt),
  };
  if (active && context.codeHash !== null && context.codeExpiresAt !== null) {
    view.codeExpiresAt = iso(context.codeExpiresAt);
    if (context.resendAvailableAt !== null) view.resendAvailableAt = iso(context.resendAvailableAt);
  }
  if (active) view.attemptsRemaining = attemptsRemaining(context);
  if (context.sentTo) view.sentTo = context.sentTo;
  if (output) view.output = output;
  return view;
}
