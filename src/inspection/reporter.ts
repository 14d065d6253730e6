/**
 * Live inspection: reports every event that the runtime applies to the Stately inspector,
 * through a relay on 127.0.0.1. A pure `transition()` creates no actor, so the reporter calls
 * the inspector API of `@statelyai/inspect` itself: `actor` once per flow with the machine
 * definition, then `event` and `snapshot` for each applied event.
 *
 * A report returns at once and never throws. Messages go into a bounded queue that a WebSocket
 * sends when the relay is connected and keeps up, so an absent or slow relay costs a request
 * nothing.
 */
import { createInspector } from "@statelyai/inspect";
import type { AnyEventObject, AnyMachineSnapshot, AnyStateMachine } from "xstate";
import { type FlowKind, flowDefinitions } from "../../machines/index.js";
import type { Logger } from "../logger.js";
import { RelayConnection, type RelayConnectionOptions } from "./relay-connection.js";
import { inspectionSessionId, toInspectedContext, toInspectedEvent } from "./sanitize.js";

/** One applied event: the snapshot it met, the event as the machine saw it, and the result. */
export interface AppliedTransition {
  before: AnyMachineSnapshot;
  event: AnyEventObject;
  after: AnyMachineSnapshot;
}

/** The reports that the runtime makes after each commit. */
export interface FlowInspection {
  reportCreated(flowId: string, kind: FlowKind, snapshot: AnyMachineSnapshot): void;
  reportApplied(flowId: string, kind: FlowKind, transition: AppliedTransition): void;
  close(): void;
}

/** Flows announced to the inspector; a finished flow leaves at once, an abandoned one when this is full. */
const MAX_ANNOUNCED_FLOWS = 10_000;

/** Reduces a snapshot to its status, its state value and the allow-listed context. */
export function toInspectedSnapshot(snapshot: AnyMachineSnapshot) {
  return { status: snapshot.status, value: snapshot.value, context: toInspectedContext(snapshot.context) };
}

/**
 * Returns the minimal actor reference from which the inspector reads a session id and a
 * definition: `inspector.actor()` serializes `logic.config`. Its snapshot is the reduced one.
 */
export function toInspectedActor(sessionId: string, machine: AnyStateMachine, snapshot: AnyMachineSnapshot) {
  const inspected = toInspectedSnapshot(snapshot);
  return { sessionId, logic: machine, send() {}, getSnapshot: () => inspected };
}

export class InspectionReporter implements FlowInspection {
  private readonly connection: RelayConnection;
  private readonly inspector;
  /** Session ids of the flows whose actor the relay has been sent, oldest first. */
  private readonly announced = new Set<string>();
  private failureLogged = false;

  constructor(private readonly options: RelayConnectionOptions & { logger: Logger }) {
    this.connection = new RelayConnection(options);
    // The hooks apply the allow-lists to every context and event that the inspector sends, also
    // to those that a report passes unreduced.
    this.inspector = createInspector(this.connection, {
      sanitizeContext: toInspectedContext,
      sanitizeEvent: toInspectedEvent,
    });
    this.inspector.start();
  }

  reportCreated(flowId: string, kind: FlowKind, snapshot: AnyMachineSnapshot): void {
    this.report(() => this.announce(inspectionSessionId(kind, flowId), kind, snapshot));
  }

  reportApplied(flowId: string, kind: FlowKind, { before, event, after }: AppliedTransition): void {
    this.report(() => {
      const sessionId = inspectionSessionId(kind, flowId);
      // A flow created before this process started, or before the relay was up, is announced now.
      if (!this.announced.has(sessionId)) this.announce(sessionId, kind, before);
      this.inspector.event(sessionId, event);
      this.inspector.snapshot(sessionId, toInspectedSnapshot(after), { event });
      if (after.status !== "active") this.announced.delete(sessionId);
    });
  }

  close(): void {
    this.inspector.stop();
  }

  private announce(sessionId: string, kind: FlowKind, snapshot: AnyMachineSnapshot): void {
    const machine = flowDefinitions[kind].machine as AnyStateMachine;
    this.inspector.actor(toInspectedActor(sessionId, machine, snapshot), toInspectedSnapshot(snapshot));
    this.announced.add(sessionId);
    if (this.announced.size > MAX_ANNOUNCED_FLOWS) {
      const oldest = this.announced.values().next().value;
      if (oldest !== undefined) this.announced.delete(oldest);
    }
  }

  /** Runs one report; a failure is logged once and never reaches the request. */
  private report(send: () => void): void {
    try {
      send();
    } catch (error) {
      if (this.failureLogged) return;
      this.failureLogged = true;
      this.options.logger.warn({ err: error }, "inspection report failed; later failures are not logged");
    }
  }
}
