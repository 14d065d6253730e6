/**
 * The actor runtime: one event is one transaction. The runtime reads a flow's snapshot and
 * checks the event against it. It then adds the facts that need I/O or the server secret and
 * computes the next snapshot with a pure `transition()`. Snapshot, journal row, database
 * intents and outbox rows are written together before the commit.
 */
import { type AnyMachineSnapshot, type AnyStateMachine, getInitialSnapshot, transition } from "xstate";
import {
  type FlowContext,
  type FlowIntent,
  type FlowKind,
  type FlowRejection,
  createFlowContext,
  flowDefinitions,
  isFlowOverdue,
} from "../../machines/index.js";
import type { Database, Transaction } from "../../db/client.js";
import type { Config } from "../config.js";
import { type SecretKeys, createId } from "../crypto.js";
import { findDeviceTrust } from "../device-trusts.js";
import { ApiError } from "../http/errors.js";
import type { AppliedTransition, FlowInspection } from "../inspection/reporter.js";
import type { Logger } from "../logger.js";
import type { PasswordChecker } from "../passwords.js";
import type { AuthenticatedSession } from "../sessions.js";
import { type SignInFailureState, applySignInOutcome, lockSignInFailures } from "../sign-in-pauses.js";
import { type UserWithOrganization, findUser, normalizeEmail } from "../users.js";
import { buildMachineEvent } from "./event-facts.js";
import { type AppliedIntents, applyIntents } from "./intents.js";
import { restoreSnapshot } from "./snapshots.js";
import { type FlowRow, insertFlow, insertJournalEntry, selectFlow, updateFlow } from "./statements.js";
import { type FlowView, acceptedEventTypes, toFlowView } from "./view.js";

/** Flow ids are base64url; anything else names no flow and never reaches a query. */
export const FLOW_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export interface FlowRuntimeOptions {
  db: Database;
  config: Config;
  keys: SecretKeys;
  passwords: PasswordChecker;
  logger: Logger;
  now: () => Date;
  /** Called after a commit that queued mail. */
  onMailQueued: () => void;
  /** Told of every created flow and applied event after its commit, when inspection is on. */
  inspection?: FlowInspection | null;
}

/** The sender of a request: its session, if any, and its client. */
export interface RequestContext {
  auth: AuthenticatedSession | null;
  userAgent: string | null;
  /** The `mfa_device` cookie, used when the body has no `deviceToken`. */
  deviceCookie: string | null;
  requestId: string;
  /** Counts the request against the per-client limit; throws `rate_limited` past it. */
  checkRateLimit?: () => Promise<void>;
}

export interface EventResult {
  flow: FlowView;
  /** The device token to set as the `mfa_device` cookie, with its lifetime. */
  deviceTrust?: { token: string; expiresAt: Date };
}

interface Loaded {
  row: FlowRow;
  machine: AnyStateMachine;
  snapshot: AnyMachineSnapshot;
}

type ClientEvent = Record<string, unknown> & { type: string };

/** Event types whose facts include a password hash, computed before the row lock. */
const SLOW_EVENT_TYPES = new Set(["SUBMIT_CREDENTIALS", "SUBMIT_PASSWORD"]);

/** Facts gathered before the row lock, because computing them is slow (a password hash). */
interface SlowFacts {
  passwordValid: boolean;
  user: UserWithOrganization | null;
}

/** Facts read under the row lock, in the same round trip as the lock. */
interface LockedFacts {
  user: UserWithOrganization | null;
  /** The trust that the presented device token names, when the password verified. */
  trust: { id: string } | null;
}

export class FlowRuntime {
  constructor(private readonly options: FlowRuntimeOptions) {}

  /** Creates a flow of a kind, checking who may create it. */
  async create(kind: FlowKind, request: RequestContext): Promise<FlowView> {
    const { db, config, now: clock } = this.options;
    let userId: string | null = null;
    if (kind !== "login") {
      const auth = request.auth;
      if (!auth) throw new ApiError("unauthenticated");
      if (kind === "enrollment" && auth.user.mfaEnabled) throw new ApiError("mfa_already_enabled");
      if (kind === "disablement") {
        if (auth.organization?.mfaEnforced) throw new ApiError("mfa_enforced_by_organization");
        if (!auth.user.mfaEnabled) throw new ApiError("mfa_not_enabled");
      }
      userId = auth.user.id;
    }

    const now = clock();
    const { machine, version } = flowDefinitions[kind];
    const context = createFlowContext(now.getTime(), userId, config.flowLimits);
    const snapshot = getInitialSnapshot(machine as AnyStateMachine, context);
    // A login flow id is its client's only credential, so it gets 192 random bits.
    const id = createId(24);
    await insertFlow(db, {
      id,
      kind,
      userId,
      machineVersion: version,
      state: String(snapshot.value),
      snapshot: persist(snapshot),
      expiresAt: new Date(context.expiresAt),
      createdAt: now,
    });
    this.options.inspection?.reportCreated(id, kind, snapshot);
    this.log(request, kind, id).info({ event: "flow.created" }, "flow created");
    return toFlowView(id, kind, snapshot);
  }

  /** Reads a flow, storing its expiry first when it is overdue. */
  async read(id: string, request: RequestContext): Promise<FlowView> {
    const loaded = await this.load(this.options.db, id, request, false);
    const kind = loaded.row.kind as FlowKind;
    if (!isOverdue(loaded, this.options.now())) return toFlowView(id, kind, loaded.snapshot);
    const { snapshot, expiry } = await this.options.db.transaction(async (tx) => {
      const locked = await this.load(tx, id, request, true);
      if (!isOverdue(locked, this.options.now())) return { snapshot: locked.snapshot, expiry: null };
      const stored = await this.storeExpiry(tx, locked);
      return { snapshot: stored.after, expiry: stored };
    });
    if (expiry) this.options.inspection?.reportApplied(id, kind, expiry);
    return toFlowView(id, kind, snapshot);
  }

  /** Applies one client event to a flow; a rejected event throws an `ApiError` with the flow. */
  async send(id: string, body: unknown, request: RequestContext): Promise<EventResult> {
    const { db } = this.options;
    // Events that need a password hash are checked before the lock too, so that a dead flow
    // costs no hash. Every other event is read, checked and applied under the lock alone.
    let loaded: Loaded | null = null;
    let event: ClientEvent | null = null;
    let slow: SlowFacts | null = null;
    const eventType = eventTypeOf(body);
    if (SLOW_EVENT_TYPES.has(eventType)) {
      loaded = await this.load(db, id, request, false);
      event = parseEvent(loaded, body);
      // An overdue flow goes straight to the lock, where its expiry is stored and answered.
      if (!isOverdue(loaded, this.options.now())) {
        checkAccepts(loaded, event.type);
        if (event.type === "SUBMIT_CREDENTIALS") await request.checkRateLimit?.();
        slow = await this.gatherSlowFacts(loaded.row.kind as FlowKind, event, loaded, request);
      }
    }

    const outcome = await db.transaction(async (tx) => {
      // The facts that need the row lock are read in the same round trip as the lock.
      const [locked, facts, signIn] = await Promise.all([
        this.load(tx, id, request, true),
        this.readLockedFacts(tx, id, eventType, slow, event, request),
        lockSignInFailures(tx, eventType, event?.email, id, this.options.now()),
      ]);
      const kind = locked.row.kind as FlowKind;
      const lockedEvent = event ?? parseEvent(locked, body);
      if (isOverdue(locked, this.options.now())) {
        return { kind, expired: await this.storeExpiry(tx, locked), applied: null };
      }
      checkAccepts(locked, lockedEvent.type);
      // Another enrollment may have turned MFA on since this one began; only CANCEL, which
      // reads no user, still applies.
      if (kind === "enrollment" && facts.user?.user.mfaEnabled) {
        throw new ApiError("mfa_already_enabled", { flow: toFlowView(id, kind, locked.snapshot) });
      }
      if (loaded && slow && locked.row.version !== loaded.row.version) {
        throw new ApiError("conflict", { flow: toFlowView(id, kind, locked.snapshot) });
      }
      return { kind, expired: null, applied: await this.apply(tx, locked, lockedEvent, slow, facts, signIn, request) };
    });

    const { kind } = outcome;
    if (outcome.expired) {
      this.options.inspection?.reportApplied(id, kind, outcome.expired);
      throw new ApiError("flow_expired", { flow: toFlowView(id, kind, outcome.expired.after) });
    }
    const { snapshot, intents, applied, pausedUntil, appliedTransition } = outcome.applied!;
    if (applied.mailQueued) this.options.onMailQueued();
    this.options.inspection?.reportApplied(id, kind, appliedTransition);

    const rejection = intents.find((intent) => intent.type === "rejected");
    const flow = toFlowView(id, kind, snapshot, applied.output);
    this.log(request, kind, id, snapshot).info(
      { event: eventType, outcome: rejection?.error ?? "ok", state: flow.state },
      "flow event applied",
    );
    if (rejection) throw rejectionError(rejection.error, flow, snapshot, this.options.now(), pausedUntil);
    return { flow, deviceTrust: applied.deviceTrust };
  }

  /**
   * Reads, inside the transaction, what must be current when the event applies: the user
   * (whether a code is required or enforced is decided at this moment) and the presented
   * device trust.
   *
   * The user row is locked. Turning MFA on or off updates this row first and then ends
   * sessions and revokes trusts, so either that change waits for this event's commit and ends
   * what it created, or this event waits and reads the new flag. `FOR NO KEY UPDATE` is the
   * lock that the update itself takes, so two events of one user never deadlock upgrading it.
   */
  private async readLockedFacts(
    tx: Transaction,
    flowId: string,
    eventType: string,
    slow: SlowFacts | null,
    event: ClientEvent | null,
    request: RequestContext,
  ): Promise<LockedFacts> {
    if (eventType === "CANCEL") return { user: null, trust: null };
    const userId = slow?.user?.user.id;
    if (slow && !userId) return { user: null, trust: null };
    const deviceToken =
      event?.type === "SUBMIT_CREDENTIALS" ? ((event.deviceToken as string | undefined) ?? request.deviceCookie) : null;
    const [user, trust] = await Promise.all([
      findUser(tx, userId ? { id: userId } : { flowId }, "no key update"),
      userId && slow?.passwordValid && deviceToken ? findDeviceTrust(tx, userId, deviceToken, this.options.now()) : null,
    ]);
    return { user, trust: user ? trust : null };
  }

  /** Loads a flow and checks that the caller may use it. */
  private async load(db: Database | Transaction, id: string, request: RequestContext, lock: boolean): Promise<Loaded> {
    if (!FLOW_ID_PATTERN.test(id)) throw new ApiError("flow_not_found");
    const row = await selectFlow(db, id, lock);
    if (!row) throw new ApiError("flow_not_found");
    if (row.kind !== "login") {
      if (!request.auth) throw new ApiError("unauthenticated");
      if (request.auth.user.id !== row.userId) throw new ApiError("flow_not_found");
    }
    const definition = Object.hasOwn(flowDefinitions, row.kind) ? flowDefinitions[row.kind as FlowKind] : undefined;
    // A snapshot written by another machine version cannot be trusted to fit this one.
    if (!definition || row.machineVersion !== definition.version) throw new ApiError("flow_expired");
    const machine = definition.machine as AnyStateMachine;
    const snapshot = restoreSnapshot(machine, row.snapshot);
    if (!snapshot) throw new ApiError("flow_expired");
    return { row, machine, snapshot };
  }

  private async gatherSlowFacts(
    kind: FlowKind,
    event: Record<string, unknown>,
    loaded: Loaded,
    request: RequestContext,
  ): Promise<SlowFacts | null> {
    const { db, passwords } = this.options;
    if (event.type === "SUBMIT_CREDENTIALS") {
      const user = await findUser(db, { email: String(event.email) });
      const passwordValid = await passwords.check(user?.user.passwordHash ?? null, String(event.password));
      return { passwordValid, user };
    }
    if (event.type === "SUBMIT_PASSWORD" && kind !== "login") {
      const userId = (loaded.snapshot.context as FlowContext).userId ?? request.auth?.user.id ?? "";
      const user = await findUser(db, { id: userId });
      const passwordValid = await passwords.check(user?.user.passwordHash ?? null, String(event.password));
      return { passwordValid, user };
    }
    return null;
  }

  /** Adds the facts, computes the transition and writes everything it implies. */
  private async apply(
    tx: Transaction,
    loaded: Loaded,
    clientEvent: ClientEvent,
    slow: SlowFacts | null,
    facts: LockedFacts,
    signIn: SignInFailureState | null,
    request: RequestContext,
  ) {
    const { config, keys } = this.options;
    const now = this.options.now();
    const { row, machine, snapshot } = loaded;
    const context = snapshot.context as FlowContext;
    const { user, trust } = facts;
    const signInEmail = row.kind === "login" && signIn ? findSignInEmail(clientEvent, user) : null;
    const pausedUntil = signInEmail ? (signIn?.pausedUntil ?? null) : null;

    const event = buildMachineEvent({
      flowId: row.id,
      kind: row.kind as FlowKind,
      context,
      clientEvent,
      slow,
      user,
      trust,
      pausedUntil,
      auth: request.auth,
      now,
      codeKey: keys.codeKey,
      recentVerificationMs: config.recentVerificationMs,
    });

    const [next, actions] = transition(machine, snapshot, event as never);
    // `transition()` returns emitted events as `xstate.emit` actions instead of delivering them.
    const intents = (actions as { type: string; params?: unknown }[])
      .filter((action) => action.type === "xstate.emit")
      .map((action) => (action.params as { event: FlowIntent }).event);
    const rejection = intents.find((intent) => intent.type === "rejected");
    const stored = persist(next);
    const changed = JSON.stringify(stored) !== JSON.stringify(persist(snapshot));
    const version = changed ? row.version + 1 : row.version;
    const nextContext = next.context as FlowContext;

    // The snapshot, the journal row and the intents' writes go out together: one round trip.
    const update = changed
      ? updateFlow(tx, row.id, {
          snapshot: stored,
          state: String(next.value),
          status: next.status === "active" ? "active" : "done",
          version,
          userId: nextContext.userId,
          updatedAt: now,
        })
      : null;
    const journal = insertJournalEntry(tx, {
      flowId: row.id,
      flowVersion: version,
      eventType: clientEvent.type,
      outcome: rejection?.error ?? "ok",
      state: String(next.value),
      createdAt: now,
    });
    update?.catch(() => {});
    journal.catch(() => {});
    const applied: AppliedIntents = await applyIntents(tx, {
      intents,
      flowId: row.id,
      kind: row.kind as FlowKind,
      userId: nextContext.userId,
      loadUser: memoize(async () => {
        if (user) return user.user;
        return nextContext.userId ? ((await findUser(tx, { id: nextContext.userId }))?.user ?? null) : null;
      }),
      sessionId: request.auth?.session.id ?? null,
      trustId: trust?.id ?? null,
      userAgent: request.userAgent,
      codeIssuedBefore: context.codesSent > 0,
      codeTtlMinutes: Math.round(nextContext.limits.codeTtlMs / 60_000),
      now,
      config,
      keys,
    });
    if (signInEmail) {
      const mailed = await applySignInOutcome(tx, {
        email: signInEmail,
        failuresBefore: signIn?.failures ?? 0,
        outcome: rejection?.error ?? "ok",
        authenticated: intents.some((intent) => intent.type === "sessionIssued"),
        flowId: row.id,
        now,
        policy: config.signInPause,
        outboxKey: keys.outboxKey,
      });
      applied.mailQueued ||= mailed;
    }
    await Promise.all([update, journal]);
    const appliedTransition: AppliedTransition = { before: snapshot, event, after: next };
    return { snapshot: next, intents, applied, eventType: clientEvent.type, pausedUntil, appliedTransition };
  }

  /** Stores the internal `EXPIRE` transition of an overdue flow, with its journal row. */
  private async storeExpiry(tx: Transaction, loaded: Loaded): Promise<AppliedTransition> {
    const now = this.options.now();
    const event = { type: "EXPIRE", now: now.getTime() };
    const [next] = transition(loaded.machine, loaded.snapshot, event);
    const version = loaded.row.version + 1;
    await updateFlow(tx, loaded.row.id, {
      snapshot: persist(next),
      state: String(next.value),
      status: "done",
      version,
      userId: loaded.row.userId,
      updatedAt: now,
    });
    await insertJournalEntry(tx, {
      flowId: loaded.row.id,
      flowVersion: version,
      eventType: "EXPIRE",
      outcome: "ok",
      state: String(next.value),
      createdAt: now,
    });
    return { before: loaded.snapshot, event, after: next };
  }

  private log(request: RequestContext, kind: FlowKind, id: string, snapshot?: AnyMachineSnapshot): Logger {
    const userId = (snapshot?.context as FlowContext | undefined)?.userId ?? request.auth?.user.id;
    return this.options.logger.child({
      requestId: request.requestId,
      flowId: kind === "login" ? id.slice(0, 8) : id,
      kind,
      ...(userId ? { userId } : {}),
    });
  }
}

function memoize<T>(load: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= load());
}

/** Reduces a snapshot to its stored form: the state value and the context, nothing else. */
function persist(snapshot: AnyMachineSnapshot): { value: unknown; context: unknown } {
  return { value: snapshot.value, context: snapshot.context };
}

function isOverdue(loaded: Loaded, now: Date): boolean {
  return loaded.snapshot.status === "active" && isFlowOverdue(loaded.snapshot.context as FlowContext, now.getTime());
}

/** Returns the `type` of a JSON body, before the body is validated. */
function eventTypeOf(body: unknown): string {
  const type = typeof body === "object" && body !== null ? (body as { type?: unknown }).type : undefined;
  return typeof type === "string" ? type : "";
}

/** Validates a body against the strict event schema of the flow's kind. */
function parseEvent(loaded: Loaded, body: unknown): ClientEvent {
  const parsed = flowDefinitions[loaded.row.kind as FlowKind].eventSchema.safeParse(body);
  if (!parsed.success) {
    throw new ApiError("invalid_request", { message: describeIssues(parsed.error.issues) });
  }
  return parsed.data as ClientEvent;
}

/** Throws `flow_expired`, `flow_finished` or `event_not_allowed` for an event that cannot apply. */
function checkAccepts(loaded: Loaded, type: string): void {
  const kind = loaded.row.kind as FlowKind;
  const flow = toFlowView(loaded.row.id, kind, loaded.snapshot);
  if (loaded.snapshot.status !== "active") {
    throw new ApiError(loaded.snapshot.value === "expired" ? "flow_expired" : "flow_finished", { flow });
  }
  if (!acceptedEventTypes(loaded.snapshot).includes(type)) throw new ApiError("event_not_allowed", { flow });
}

/** The address whose sign-in pause a login event is subject to, or null for other events. */
function findSignInEmail(event: Record<string, unknown>, user: UserWithOrganization | null): string | null {
  if (event.type === "SUBMIT_CREDENTIALS") return normalizeEmail(String(event.email));
  return event.type === "SUBMIT_CODE" ? (user?.user.email ?? null) : null;
}

function rejectionError(
  error: FlowRejection,
  flow: FlowView,
  snapshot: AnyMachineSnapshot,
  now: Date,
  pausedUntil: Date | null,
): ApiError {
  const context = snapshot.context as FlowContext;
  if (error === "too_many_failures") {
    const retryAfterSeconds = Math.max(1, Math.ceil(((pausedUntil?.getTime() ?? 0) - now.getTime()) / 1000));
    return new ApiError(error, { flow, extra: { retryAfter: retryAfterSeconds }, retryAfterSeconds });
  }
  if (error === "resend_too_soon") {
    const retryAfterSeconds = Math.max(1, Math.ceil(((context.resendAvailableAt ?? 0) - now.getTime()) / 1000));
    return new ApiError(error, { flow, extra: { retryAfter: retryAfterSeconds }, retryAfterSeconds });
  }
  if (error === "invalid_code" || error === "invalid_password" || error === "invalid_credentials") {
    return new ApiError(error, { flow, extra: { attemptsRemaining: flow.attemptsRemaining ?? 0 } });
  }
  if (error === "too_many_attempts") return new ApiError(error, { flow, extra: { attemptsRemaining: 0 } });
  return new ApiError(error, { flow });
}

/** Describes zod issues in one line, naming each field. */
export function describeIssues(issues: { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => (issue.path.length ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message))
    .join("; ");
}
