/**
 * Security properties of the flow machines, checked on a path with pure transitions
 * (`initialTransition` and `transition`, no actors, no database). The evidence each property
 * needs is a right password, a code that was sent and its age. It is tracked from the events'
 * facts and the intents the machine emitted, not from the machine's context, so that a
 * machine that miscounts cannot vouch for itself.
 */
import { type AnyMachineSnapshot, type AnyStateMachine, initialTransition, transition } from "xstate";
import { createFlowContext } from "../../machines/index.js";
import {
  type FlowModel,
  MODEL_LIMITS,
  MODEL_START,
  type ModelEvent,
  type ModelPath,
  intentsOf,
  isWrongSubmission,
  stateNodesOf,
} from "./models.js";

export interface Violation {
  property: string;
  path: string;
  /** 1-based index of the event at which the property failed. */
  step: number;
  detail: string;
}

/** The newest code that the flow sent, as the property checker saw it go out. */
interface SentCode {
  expiresAt: number;
  /** A right password was submitted before the code was sent. */
  afterPassword: boolean;
  used: boolean;
}

interface Evidence {
  rightPassword: boolean;
  code: SentCode | null;
  wrongSubmissions: number;
}

const FLOW_EXPIRES_AT = MODEL_START + MODEL_LIMITS.flowTtlMs;

/** Returns whether an event carries the newest code, unexpired and unused. */
function isRightCode(event: ModelEvent, evidence: Evidence): boolean {
  const { code } = evidence;
  if (event.type !== "SUBMIT_CODE" || event.codeMatches !== true || !code) return false;
  return code.afterPassword && !code.used && event.now < code.expiresAt;
}

/** Returns whether an event is a right password that nothing (a pause, enforcement) stopped. */
function isPasswordAccepted(event: ModelEvent): boolean {
  const password = event.type === "SUBMIT_CREDENTIALS" || event.type === "SUBMIT_PASSWORD";
  return password && event.passwordValid === true && event.signInPaused !== true && event.mfaEnforced !== true;
}

function accepts(snapshot: AnyMachineSnapshot, type: string): boolean {
  return snapshot.status === "active" && snapshot._nodes.some((node: { transitions: Map<string, unknown> }) => node.transitions.has(type));
}

/** Checks a step into a goal state (authenticated, enabled, disabled) for its evidence, and returns the failure, if any. */
function checkGoal(model: FlowModel, path: ModelPath, state: string, event: ModelEvent, evidence: Evidence): string | null {
  const rightCode = isRightCode(event, evidence);
  if (model.kind === "login" && state === "authenticated") {
    const password = event.type === "SUBMIT_CREDENTIALS" ? event.passwordValid === true : evidence.rightPassword;
    if (!password) return "authenticated without a right password";
    if (path.scenario.mfa === "off") return null;
    const trusted = event.type === "SUBMIT_CREDENTIALS" && event.passwordValid === true && event.deviceTrusted === true;
    if (!trusted && !rightCode) return "authenticated with a code required but neither a right, unexpired, unused code nor a trusted device";
    if (!trusted && event.signInPaused === true) return "authenticated with a code while sign-in was paused";
    return null;
  }
  if (model.kind === "enrollment" && state === "enabled") {
    return rightCode ? null : "enabled without a right password and then a right, unexpired code";
  }
  if (model.kind === "disablement" && state === "disabled") {
    if (event.mfaEnforced === true) return "disabled while the organization enforces MFA";
    const recent = isPasswordAccepted(event) && event.recentlyVerified === true;
    if (!recent && !rightCode) return "disabled without a right password and, for a session not recently verified, a right code";
    return null;
  }
  return null;
}

/** Applies each event to a final snapshot, and describes the first one that changed it. */
function checkFinal(machine: AnyStateMachine, final: AnyMachineSnapshot, probes: ModelEvent[]): string | null {
  for (const probe of probes) {
    const [after, actions] = transition(machine, final, probe as never);
    const changed = after.value !== final.value || JSON.stringify(after.context) !== JSON.stringify(final.context);
    if (changed || actions.length > 0) return `${String(final.value)} changed on ${probe.type} (${probe.variant})`;
  }
  return null;
}

/** Lists one event of each type, with facts that would move an active flow, sent long after its end. */
function probeEvents(): ModelEvent[] {
  const now = FLOW_EXPIRES_AT + MODEL_LIMITS.flowTtlMs;
  const facts = { userId: "model-user", sentTo: "m***@example.com", newCode: { code: "probe", hash: "probe" } };
  return [
    { type: "SUBMIT_CREDENTIALS", variant: "right password", now, ...facts, passwordValid: true, codeRequired: false, deviceTrusted: true, signInPaused: false },
    { type: "SUBMIT_PASSWORD", variant: "right password", now, ...facts, passwordValid: true, recentlyVerified: true, mfaEnforced: false },
    { type: "SUBMIT_CODE", variant: "right code", now, codeMatches: true, rememberDevice: true, signInPaused: false, mfaEnforced: false },
    { type: "RESEND_CODE", variant: "resend", now, ...facts, mfaEnforced: false },
    { type: "CANCEL", variant: "cancel", now },
    { type: "EXPIRE", variant: "flow expiry", now },
  ];
}

/**
 * Checks one path of a model against the properties, from the machine's initial state:
 * no goal state without its evidence, no more wrong submissions than the limit, and no
 * change after a final state. `machine` may be a broken copy of the model's machine.
 */
export function checkPath(model: FlowModel, path: ModelPath, machine: AnyStateMachine = model.machine): Violation[] {
  // The reference machine names the final states, so a copy that drops one is still held to it.
  const finals = new Set(stateNodesOf(model.machine).filter((node) => node.type === "final").map((node) => node.key));
  const violations: Violation[] = [];
  const fail = (property: string, step: number, detail: string) =>
    violations.push({ property, path: path.name, step, detail });
  const evidence: Evidence = { rightPassword: false, code: null, wrongSubmissions: 0 };
  let [snapshot] = initialTransition(machine, createFlowContext(MODEL_START, null, MODEL_LIMITS));

  path.steps.slice(1).forEach(({ event }, index) => {
    const step = index + 1;
    const before = snapshot;
    const [after, actions] = transition(machine, before, event as never);
    snapshot = after;

    if (finals.has(String(before.value))) {
      const detail = checkFinal(machine, before, [event]);
      if (detail) fail("a final state never changes", step, detail);
      return;
    }
    if (isWrongSubmission(event) && accepts(before, event.type)) {
      evidence.wrongSubmissions += 1;
      if (evidence.wrongSubmissions > MODEL_LIMITS.maxWrongSubmissions) {
        fail("at most 5 wrong submissions", step, `wrong submission ${evidence.wrongSubmissions} was accepted`);
      }
    }
    const reached = String(after.value);
    if (reached !== String(before.value)) {
      const detail = checkGoal(model, path, reached, event, evidence);
      if (detail) fail(`no ${reached} without its evidence`, step, detail);
      if (event.type === "SUBMIT_CODE" && evidence.code && event.codeMatches === true) evidence.code.used = true;
    }
    if (isPasswordAccepted(event)) evidence.rightPassword = true;
    for (const intent of intentsOf(actions)) {
      if (intent.type !== "codeIssued") continue;
      const expiresAt = Math.min(event.now + MODEL_LIMITS.codeTtlMs, FLOW_EXPIRES_AT);
      evidence.code = { expiresAt, afterPassword: evidence.rightPassword, used: false };
    }
  });

  if (finals.has(String(snapshot.value))) {
    const detail = checkFinal(machine, snapshot, probeEvents());
    if (detail) fail("a final state never changes", path.steps.length, detail);
  }
  return violations;
}
