/**
 * Test models of the flow machines for `xstate/graph`, shared by the replays against the HTTP
 * API and by the security properties.
 *
 * A machine's snapshot contains neither the time nor the outcome of the last event. An event
 * that a machine rejects without a change (a resend too soon, an expired code, a paused
 * sign-in) would be a self-loop, and path generators drop self-loops. Each model therefore
 * wraps the real machine in `fromTransition` logic whose state is the machine's snapshot plus
 * the clock, the transition that the last event took and a few bounded counters. The events
 * carry the facts that the runtime would compute (the time, whether a code matches, whether
 * the password is right), chosen here for each variant, so the traversal is finite and
 * deterministic.
 */
import {
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
  type AnyTransitionDefinition,
  type TransitionSnapshot,
  fromTransition,
  initialTransition,
  transition,
} from "xstate";
import { type TestPath, TestModel } from "xstate/graph";
import {
  DEFAULT_FLOW_LIMITS,
  type FlowContext,
  type FlowIntent,
  type FlowKind,
  type FlowRejection,
  createFlowContext,
  disablementMachine,
  enrollmentMachine,
  loginMachine,
} from "../../machines/index.js";

/** The model's time of flow creation; a replay maps it onto the moment it creates the flow. */
export const MODEL_START = Date.parse("2026-01-05T09:00:00.000Z");
export const MODEL_USER_ID = "model-user";
export const MODEL_SENT_TO = "m***@example.com";
export const MODEL_LIMITS = DEFAULT_FLOW_LIMITS;

/** Event types that clients send. `EXPIRE` is the runtime's own. */
export const CLIENT_EVENT_TYPES = new Set(["SUBMIT_CREDENTIALS", "SUBMIT_PASSWORD", "SUBMIT_CODE", "RESEND_CODE", "CANCEL"]);

/** A machine event with its facts, and the name of the variant that a replay acts out. */
export type ModelEvent = { type: string; now: number; variant: string } & Record<string, unknown>;

/** Facts about the person and the session that a path starts from, fixed for the whole path. */
export interface Scenario {
  name: string;
  /** Login: whether a code is required because the user enabled MFA or the organization enforces it. */
  mfa?: "off" | "on" | "enforced";
  /** Login: the client presents the device token of an unexpired trust of this user. */
  trustedDevice?: boolean;
  /** Disablement: the session submitted a code at sign-in in the last 15 minutes. */
  recentlyVerified?: boolean;
  /** Paths of this scenario take at most this many events. */
  maxEvents?: number;
}

export interface ModelState {
  scenario: Scenario;
  snapshot: AnyMachineSnapshot;
  /** The time of the last event. Events never go back in time. */
  now: number;
  events: number;
  /**
   * Wrong passwords and codes sent, counted by the model rather than the machine, so that the
   * traversal of a broken machine that never locks still ends.
   */
  wrongSent: number;
  /** The transition that the last event took, null at the start or when none was enabled. */
  transition: string | null;
  /** What the last event emitted: its rejection, a code, a session. */
  intents: FlowIntent[];
  /** The path took its one detour: an event that the flow rejects without a change. */
  detoured: boolean;
  /** Where the path is with respect to its block of resends. */
  resends: "before" | "during" | "after";
}

export interface FlowModel {
  kind: FlowKind;
  machine: AnyStateMachine;
  scenarios: Scenario[];
  /** The event variants that a path may take from a state. */
  events(state: ModelState): ModelEvent[];
}

export type ModelSnapshot = TransitionSnapshot<ModelState>;

/** A generated path and the scenario it starts from. The first step is `xstate.init`. */
export interface ModelPath extends TestPath<ModelSnapshot, ModelEvent> {
  kind: FlowKind;
  scenario: Scenario;
  /** The scenario and the variants of the path's events, for messages. */
  name: string;
}

const DETOUR_VARIANTS = new Set([
  "right password, paused",
  "wrong password, paused",
  "right code, paused",
  "expired code",
  "resend too soon",
  "resend past the limit",
  "right password, enforced",
  "right code, enforced",
  "resend, enforced",
]);

export function contextOf(state: ModelState): FlowContext {
  return state.snapshot.context as FlowContext;
}

/** Returns whether the flow is expected to reject an event without a change. */
export function isDetour(event: ModelEvent): boolean {
  return DETOUR_VARIANTS.has(event.variant);
}

export function isWrongSubmission(event: ModelEvent): boolean {
  return event.variant === "wrong password" || event.variant === "wrong code";
}

/** Returns the code for an event that sends one. Its hash only has to differ from the last one. */
function nextCode(state: ModelState) {
  const number = contextOf(state).codesSent + 1;
  return { code: `code-${number}`, hash: `hash-${number}` };
}

/**
 * Tells whether a path may take its detour now: once per path, right after the first or the
 * last code was sent. Detours anywhere would multiply the simple paths by the path length.
 */
function mayDetour(state: ModelState): boolean {
  const { codesSent } = contextOf(state);
  const firstOrLast = codesSent === 1 || codesSent === MODEL_LIMITS.maxCodesPerFlow;
  return !state.detoured && firstOrLast && state.intents.some((intent) => intent.type === "codeIssued");
}

/**
 * Tells whether a path may send a wrong password or code now. After its detour a path only
 * finishes. One wrong submission past the limit is offered, so that a machine that fails to
 * lock shows it.
 */
function maySubmitWrong(state: ModelState): boolean {
  return !state.detoured && state.wrongSent <= MODEL_LIMITS.maxWrongSubmissions;
}

/**
 * Tells whether a path may resend now. Resends form one block between wrong codes, and the
 * block begins after at most one wrong submission, because other orders add many paths and
 * little risk. After its detour a path resends only to replace an expired code.
 */
function mayResend(state: ModelState, codeValid: boolean): boolean {
  if (state.detoured && codeValid) return false;
  if (state.resends === "before") return state.wrongSent <= 1;
  return state.resends === "during";
}

function endEvents(state: ModelState): ModelEvent[] {
  return [
    { type: "CANCEL", variant: "cancel", now: state.now },
    { type: "EXPIRE", variant: "flow expiry", now: contextOf(state).expiresAt },
  ];
}

/** Lists the code variants that every machine shares. `facts` adds the machine's own facts. */
function codeEvents(state: ModelState, facts: Record<string, unknown> = {}): ModelEvent[] {
  const context = contextOf(state);
  const detour = mayDetour(state);
  const { now } = state;
  const events: ModelEvent[] = [];
  const codeValid = context.codeExpiresAt !== null && now < context.codeExpiresAt;
  if (codeValid) {
    events.push({ type: "SUBMIT_CODE", variant: "right code", now, codeMatches: true, ...facts });
  }
  if (codeValid && maySubmitWrong(state)) {
    events.push({ type: "SUBMIT_CODE", variant: "wrong code", now, codeMatches: false, ...facts });
  }
  // A code that expires with the flow is never submitted late, because the flow expires first.
  if (detour && context.codeExpiresAt !== null && context.codeExpiresAt < context.expiresAt) {
    const late = Math.max(now, context.codeExpiresAt);
    events.push({ type: "SUBMIT_CODE", variant: "expired code", now: late, codeMatches: true, ...facts });
  }
  const resend = { type: "RESEND_CODE", newCode: nextCode(state), ...facts };
  if (detour && context.resendAvailableAt !== null && now < context.resendAvailableAt) {
    events.push({ ...resend, variant: "resend too soon", now });
  }
  const resendAt = Math.max(now, context.resendAvailableAt ?? now);
  if (context.codesSent >= MODEL_LIMITS.maxCodesPerFlow) {
    if (detour) events.push({ ...resend, variant: "resend past the limit", now });
  } else if (resendAt < context.expiresAt && mayResend(state, codeValid)) {
    events.push({ ...resend, variant: "resend", now: resendAt });
  }
  return [...events, ...endEvents(state)];
}

export const loginModel: FlowModel = {
  kind: "login",
  machine: loginMachine,
  scenarios: [
    { name: "MFA off", mfa: "off", trustedDevice: false },
    { name: "MFA on", mfa: "on", trustedDevice: false },
    { name: "MFA on, trusted device", mfa: "on", trustedDevice: true },
    // After the password the flow runs as with MFA on, so short paths suffice.
    { name: "MFA enforced by the organization", mfa: "enforced", trustedDevice: false, maxEvents: 3 },
    { name: "MFA enforced by the organization, trusted device", mfa: "enforced", trustedDevice: true },
  ],
  events(state) {
    const { scenario, now } = state;
    if (state.snapshot.value !== "awaitingCredentials") {
      const events = codeEvents(state, { signInPaused: false });
      const right = events.find((event) => event.variant === "right code");
      if (right) events.push({ ...right, variant: "right code, remember device", rememberDevice: true });
      if (right && mayDetour(state)) events.push({ ...right, variant: "right code, paused", signInPaused: true });
      return events;
    }
    const credentials = (variant: string, passwordValid: boolean, signInPaused: boolean): ModelEvent => ({
      type: "SUBMIT_CREDENTIALS",
      variant,
      now,
      userId: MODEL_USER_ID,
      sentTo: MODEL_SENT_TO,
      passwordValid,
      codeRequired: scenario.mfa !== "off",
      // The runtime looks the device token up only after a right password.
      deviceTrusted: passwordValid && scenario.trustedDevice === true,
      signInPaused,
      newCode: nextCode(state),
    });
    const events = [credentials("right password", true, false)];
    if (maySubmitWrong(state)) events.push(credentials("wrong password", false, false));
    // A pause is tried at the first two attempts only, which keeps the paths few.
    if (!state.detoured && state.wrongSent <= 1) {
      events.push(credentials("right password, paused", true, true), credentials("wrong password, paused", false, true));
    }
    return [...events, ...endEvents(state)];
  },
};

export const enrollmentModel: FlowModel = {
  kind: "enrollment",
  machine: enrollmentMachine,
  scenarios: [{ name: "MFA off" }],
  events(state) {
    if (state.snapshot.value !== "awaitingPassword") return codeEvents(state);
    const password = (variant: string, passwordValid: boolean): ModelEvent => ({
      type: "SUBMIT_PASSWORD",
      variant,
      now: state.now,
      passwordValid,
      sentTo: MODEL_SENT_TO,
      newCode: nextCode(state),
    });
    const events = [password("right password", true)];
    if (maySubmitWrong(state)) events.push(password("wrong password", false));
    return [...events, ...endEvents(state)];
  },
};

export const disablementModel: FlowModel = {
  kind: "disablement",
  machine: disablementMachine,
  scenarios: [
    { name: "recently verified session", recentlyVerified: true },
    { name: "session not recently verified", recentlyVerified: false },
  ],
  events(state) {
    const enforced = (event: ModelEvent): ModelEvent => ({
      ...event,
      variant: `${event.variant}, enforced`,
      mfaEnforced: true,
    });
    if (state.snapshot.value !== "awaitingPassword") {
      const events = codeEvents(state, { mfaEnforced: false });
      if (!mayDetour(state)) return events;
      const right = events.find((event) => event.variant === "right code");
      const resend = events.find((event) => event.variant === "resend");
      return [...events, ...[right, resend].filter((event) => event !== undefined).map(enforced)];
    }
    const password = (variant: string, passwordValid: boolean): ModelEvent => ({
      type: "SUBMIT_PASSWORD",
      variant,
      now: state.now,
      passwordValid,
      recentlyVerified: state.scenario.recentlyVerified === true,
      mfaEnforced: false,
      sentTo: MODEL_SENT_TO,
      newCode: nextCode(state),
    });
    const right = password("right password", true);
    const events = [right];
    if (maySubmitWrong(state)) events.push(password("wrong password", false));
    if (!state.detoured) events.push(enforced(right));
    return [...events, ...endEvents(state)];
  },
};

export const flowModels: Record<FlowKind, FlowModel> = {
  login: loginModel,
  enrollment: enrollmentModel,
  disablement: disablementModel,
};

/** Names a transition by its source state, event type and place among that event's candidates. */
export function transitionId(transition: AnyTransitionDefinition): string {
  const candidates = transition.source.transitions.get(transition.eventType) ?? [];
  return `${transition.source.key} ${transition.eventType} #${candidates.indexOf(transition) + 1}`;
}

/** Returns every state node of a machine, nested ones included. */
export function stateNodesOf(machine: AnyStateMachine): AnyStateNode[] {
  const nodes: AnyStateNode[] = [];
  const visit = (node: AnyStateNode) => {
    for (const child of Object.values(node.states)) {
      nodes.push(child);
      visit(child);
    }
  };
  visit(machine.root);
  return nodes;
}

/** Lists every transition of a machine's definition: each guarded candidate of each event of each state. */
export function transitionsOf(machine: AnyStateMachine): string[] {
  return [machine.root, ...stateNodesOf(machine)].flatMap((node) =>
    [...node.transitions.values()].flat().map(transitionId),
  );
}

/** Picks the intents out of the actions that `transition()` returns. */
export function intentsOf(actions: { type: string; params?: unknown }[]): FlowIntent[] {
  return actions
    .filter((action) => action.type === "xstate.emit")
    .map((action) => (action.params as { event: FlowIntent }).event);
}

/** Returns the rejection among the intents, or null when the event was accepted. */
export function rejectionOf(intents: FlowIntent[]): FlowRejection | null {
  const rejected = intents.find((intent) => intent.type === "rejected");
  return rejected?.type === "rejected" ? rejected.error : null;
}

/** Applies one event to a model state with the machine's pure `transition()`. */
export function applyEvent(machine: AnyStateMachine, state: ModelState, event: ModelEvent): ModelState {
  const enabled = machine.getTransitionData(state.snapshot, event as never);
  const [snapshot, actions] = transition(machine, state.snapshot, event as never);
  let resends = state.resends;
  if (event.variant === "resend") resends = "during";
  if (event.variant === "wrong code" && resends === "during") resends = "after";
  return {
    scenario: state.scenario,
    snapshot,
    now: Math.max(state.now, event.now),
    events: state.events + 1,
    wrongSent: state.wrongSent + (isWrongSubmission(event) ? 1 : 0),
    transition: enabled[0] ? transitionId(enabled[0]) : null,
    intents: intentsOf(actions),
    detoured: state.detoured || isDetour(event),
    resends,
  };
}

/** Creates the model state of a new flow with the machine's pure `initialTransition()`. */
export function initialModelState(machine: AnyStateMachine, scenario: Scenario): ModelState {
  const [snapshot] = initialTransition(machine, createFlowContext(MODEL_START, null, MODEL_LIMITS));
  return {
    scenario,
    snapshot,
    now: MODEL_START,
    events: 0,
    wrongSent: 0,
    transition: null,
    intents: [],
    detoured: false,
    resends: "before",
  };
}

/** Serializes a model state with the fields that set its futures apart, with times relative to the start. */
export function serializeModelState(state: ModelState): string {
  // A final state has no future, so only the transition into it sets two apart.
  if (state.snapshot.status !== "active") return JSON.stringify([state.snapshot.value, state.transition]);
  const context = contextOf(state);
  const relative = (time: number | null) => (time === null ? null : time - MODEL_START);
  return JSON.stringify([
    state.snapshot.value,
    state.transition,
    relative(state.now),
    state.scenario.maxEvents === undefined ? null : state.events,
    state.wrongSent,
    state.detoured,
    state.resends,
    context.wrongSubmissions,
    context.codesSent,
    context.codeHash,
    relative(context.codeExpiresAt),
    relative(context.resendAvailableAt),
  ]);
}

/**
 * Creates the `xstate/graph` test model of one scenario. `machine` may be a broken copy of the
 * model's machine, for checks that a property can fail.
 */
export function createFlowTestModel(model: FlowModel, scenario: Scenario, machine = model.machine) {
  const logic = fromTransition(
    (state: ModelState, event: ModelEvent) => applyEvent(machine, state, event),
    initialModelState(machine, scenario),
  );
  return new TestModel(logic, {
    events: ({ context }: ModelSnapshot) => {
      const done = context.snapshot.status !== "active" || context.events === scenario.maxEvents;
      return done ? [] : model.events(context);
    },
    serializeState: ({ context }: ModelSnapshot) => serializeModelState(context),
    serializeEvent: (event: ModelEvent) => (event.variant ? `${event.type} (${event.variant})` : event.type),
  });
}

/** Names a path by its kind, scenario and event variants. */
export function describePath(kind: FlowKind, scenario: Scenario, path: TestPath<ModelSnapshot, ModelEvent>): string {
  const variants = path.steps.slice(1).map((step) => step.event.variant);
  return `${kind} (${scenario.name}): ${variants.length ? variants.join(" → ") : "no events"}`;
}

export interface PathOptions {
  /** A broken copy of the machine to traverse instead. */
  machine?: AnyStateMachine;
  /** Keeps paths that begin a longer one, which `xstate/graph` drops by default. */
  allowDuplicatePaths?: boolean;
  /** Names of the scenarios to traverse. By default, all of them. */
  scenarios?: string[];
}

function pathsOf(model: FlowModel, kind: "shortest" | "simple", options: PathOptions): ModelPath[] {
  const scenarios = model.scenarios.filter((scenario) => options.scenarios?.includes(scenario.name) ?? true);
  return scenarios.flatMap((scenario) => {
    const testModel = createFlowTestModel(model, scenario, options.machine);
    const generate = { allowDuplicatePaths: options.allowDuplicatePaths ?? false };
    const paths = kind === "shortest" ? testModel.getShortestPaths(generate) : testModel.getSimplePaths(generate);
    return paths.map((path) => ({
      ...path,
      kind: model.kind,
      scenario,
      name: describePath(model.kind, scenario, path),
    }));
  });
}

/**
 * Returns the shortest path to every model state of every scenario. By default a path that
 * begins a longer one is left out, since replaying the longer one checks it step by step.
 */
export function shortestPathsOf(model: FlowModel, options: PathOptions = {}): ModelPath[] {
  return pathsOf(model, "shortest", options);
}

/** Returns the simple paths (no model state twice) of every scenario. */
export function simplePathsOf(model: FlowModel, options: PathOptions = {}): ModelPath[] {
  return pathsOf(model, "simple", options);
}

/** What the API is expected to show after a step: the flow and the error, if any. */
export interface ExpectedFlow {
  state: string;
  status: "active" | "done";
  nextEvents: string[];
  attemptsRemaining: number | undefined;
  rejection: FlowRejection | null;
}

/** Derives what the API should show from the model state, independently of the service's view code. */
export function expectedFlowOf(state: ModelState): ExpectedFlow {
  const { snapshot } = state;
  const active = snapshot.status === "active";
  const accepted = active ? snapshot._nodes.flatMap((node: AnyStateNode) => [...node.transitions.keys()]) : [];
  return {
    state: String(snapshot.value),
    status: active ? "active" : "done",
    nextEvents: [...new Set(accepted)].filter((type) => CLIENT_EVENT_TYPES.has(type)).sort(),
    attemptsRemaining: active ? Math.max(0, MODEL_LIMITS.maxWrongSubmissions - contextOf(state).wrongSubmissions) : undefined,
    rejection: rejectionOf(state.intents),
  };
}
