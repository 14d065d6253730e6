/**
 * Replays model paths against the HTTP API on a real database, over `app.request()` or over a
 * real socket, and compares what the API shows after each step with the model's snapshot.
 * Each variant of an event is acted out for real: codes come from the development mailbox,
 * time from the test clock, pauses from failed sign-ins, enforcement from the operator API.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { and, desc, eq } from "drizzle-orm";
import { expect } from "vitest";
import { devMailbox } from "../../db/schema.js";
import type { FlowKind, FlowRejection } from "../../machines/index.js";
import { renderMail } from "../../src/mail/templates.js";
import { type ApiResponse, PASSWORD, type RequestOptions, type TestApp } from "../support/app.js";
import { MINUTE } from "../support/clock.js";
import { register, registerWithMfa, signIn, submitCredentials } from "../support/flows.js";
import { addMember, createOrganization, operatorRequest, setEnforcement } from "../support/operator.js";
import {
  type ExpectedFlow,
  MODEL_START,
  type ModelEvent,
  type ModelPath,
  type ModelState,
  type Scenario,
  contextOf,
  expectedFlowOf,
} from "./models.js";

/** How requests reach the app: in process through `app.request()`, or over a socket. */
export interface Transport {
  name: "app.request" | "socket";
  request(method: string, path: string, body?: unknown, options?: RequestOptions): Promise<ApiResponse>;
}

export function inProcessTransport(app: TestApp): Transport {
  return { name: "app.request", request: app.request };
}

/** Serves the app with `@hono/node-server` on 127.0.0.1 on a free port and sends requests with `fetch`. */
export async function socketTransport(app: TestApp): Promise<Transport & { close(): Promise<void> }> {
  let server!: ReturnType<typeof serve>;
  const address = await new Promise<AddressInfo>((resolve) => {
    server = serve({ fetch: app.app.fetch, hostname: "127.0.0.1", port: 0 }, resolve);
  });
  const baseUrl = `http://127.0.0.1:${address.port}`;
  return {
    name: "socket",
    async request(method, path, body, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      if (body !== undefined) headers["content-type"] = "application/json";
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        if ("closeAllConnections" in server) server.closeAllConnections();
      }),
  };
}

/** The person a path acts as, set up for its scenario. */
interface Actor {
  email: string;
  userId: string;
  /** Session token: enrollment and disablement need one. */
  token?: string;
  sessionExpiresAt?: number;
  /** When the session submitted its code, for a session that must be recently verified. */
  codeVerifiedAt?: number;
  /** Device token of a trust of this user, from an earlier sign-in with `rememberDevice`. */
  deviceToken?: string;
  deviceTrustExpiresAt?: number;
  /** The actor's organization, whose enforcement a disablement path turns on and off. */
  organizationId?: string;
}

/** A session or trust this close to its end is renewed before a path, since a path may last a whole flow. */
const RENEWAL_MARGIN_MS = 60 * MINUTE;
/**
 * A disablement path sends its password when it creates the flow, so a session that signed in
 * with a code less than this long ago is still recently verified then (the window is 15 minutes).
 */
const RECENT_SESSION_MS = 10 * MINUTE;

/**
 * Sets up the people that paths act as, and reuses them while no path changed what a later
 * path relies on: an enrollment that turned MFA on, or a disablement that turned it off, ends
 * its actor. Sessions and trusts are renewed as the test clock moves on.
 */
export class ActorPool {
  private readonly actors = new Map<string, Actor>();

  constructor(private readonly app: TestApp) {}

  async actorFor(kind: FlowKind, scenario: Scenario): Promise<Actor> {
    const key = `${kind}: ${scenario.name}`;
    let actor = this.actors.get(key);
    if (!actor || this.isEnding(actor.deviceTrustExpiresAt)) {
      actor = await this.createActor(kind, scenario);
      this.actors.set(key, actor);
    }
    if (kind === "login") return actor;
    const stale = scenario.recentlyVerified && this.now() - (actor.codeVerifiedAt ?? 0) >= RECENT_SESSION_MS;
    if (!actor.token || this.isEnding(actor.sessionExpiresAt) || stale) await this.signIn(actor, kind, scenario);
    return actor;
  }

  /** Ends the actor of a path that changed its MFA setting. */
  afterPath(kind: FlowKind, scenario: Scenario, state: string): void {
    if (state === "enabled" || state === "disabled") this.actors.delete(`${kind}: ${scenario.name}`);
  }

  private now(): number {
    return this.app.clock.now().getTime();
  }

  private isEnding(time: number | undefined): boolean {
    return time !== undefined && time - this.now() < RENEWAL_MARGIN_MS;
  }

  private async createActor(kind: FlowKind, scenario: Scenario): Promise<Actor> {
    const withMfa = kind === "disablement" || scenario.mfa === "on";
    const user = withMfa ? await registerWithMfa(this.app) : await register(this.app);
    const actor: Actor = { email: user.email, userId: user.id };
    if (kind === "disablement") {
      const organization = await createOrganization(this.app, `Relaxed ${user.id}`);
      await addMember(this.app, organization.id, user.id);
      actor.organizationId = organization.id;
    }
    if (scenario.mfa === "enforced") {
      const organization = await createOrganization(this.app, `Enforcing ${user.id}`);
      await addMember(this.app, organization.id, user.id);
      await setEnforcement(this.app, organization.id, true);
    }
    // A session that signed in on a trusted device never counts as recently verified.
    if (scenario.trustedDevice || scenario.recentlyVerified === false) {
      const output = await signIn(this.app, actor.email, true);
      actor.deviceToken = output.deviceToken;
      actor.deviceTrustExpiresAt = Date.parse(output.deviceTrustExpiresAt!);
    }
    return actor;
  }

  /** Signs in for a path: with a code for a recently verified session, else on the trusted device or with the password. */
  private async signIn(actor: Actor, kind: FlowKind, scenario: Scenario): Promise<void> {
    let output: Record<string, string>;
    if (kind === "disablement" && !scenario.recentlyVerified) {
      const { response } = await submitCredentials(this.app, actor.email, { deviceToken: actor.deviceToken });
      expect(response.body.state, JSON.stringify(response.body)).toBe("authenticated");
      output = response.body.output;
    } else {
      output = await signIn(this.app, actor.email);
    }
    actor.token = output.sessionToken;
    actor.sessionExpiresAt = Date.parse(output.sessionExpiresAt!);
    actor.codeVerifiedAt = kind === "disablement" && scenario.recentlyVerified ? this.now() : undefined;
  }
}

/** Statuses of the rejections, from the HTTP contract. */
const REJECTION_STATUS: Record<FlowRejection, number> = {
  invalid_credentials: 422,
  invalid_password: 422,
  invalid_code: 422,
  code_expired: 422,
  too_many_attempts: 423,
  resend_too_soon: 429,
  resend_limit_reached: 409,
  mfa_enforced_by_organization: 403,
  too_many_failures: 429,
};

/** Outcomes of a login event that count against the address, and with a threshold of 1 pause it. */
const COUNTED_FAILURES = new Set(["invalid_credentials", "invalid_code", "too_many_attempts"]);

/** The parts of a response that a step compares with the model. */
interface Observed {
  httpStatus: number;
  error: string | null;
  state: string | undefined;
  status: string | undefined;
  nextEvents: string[] | undefined;
  attemptsRemaining: number | undefined;
  errorAttemptsRemaining?: number | undefined;
  sessionIssued?: boolean;
  deviceTokenIssued?: boolean;
}

export interface ReplayContext {
  app: TestApp;
  transport: Transport;
  actors: ActorPool;
}

/** One path being acted out: the flow, the actor, and the newest code read from the mailbox. */
class PathReplay {
  private flowId = "";
  private createdAt = 0;
  private response: ApiResponse | null = null;
  private previous: ModelState | null = null;
  private code: { codesSent: number; value: string } | null = null;

  constructor(
    private readonly context: ReplayContext,
    private readonly path: ModelPath,
    private readonly actor: Actor,
  ) {}

  private get app(): TestApp {
    return this.context.app;
  }

  /** Acts out one step: the event's variant, at the event's time. */
  async perform(event: ModelEvent, expected: ModelState): Promise<void> {
    if (event.type === "xstate.init") {
      this.createdAt = this.app.clock.now().getTime();
      this.response = await this.send("POST", "/v1/flows", { kind: this.path.kind });
    } else if (event.variant === "flow expiry") {
      this.moveClockTo(event.now);
      this.response = await this.observeExpiry();
    } else {
      this.moveClockTo(event.now);
      this.response = await this.sendVariant(event);
    }
    this.previous = expected;
  }

  /** Compares the last response with the model's state after the step. */
  check(expected: ModelState, index: number, event: ModelEvent): void {
    const response = this.response!;
    const wanted = this.expectedObservation(expectedFlowOf(expected), event, expected);
    const actual = this.observe(response, wanted);
    const step = event.type === "xstate.init" ? "the flow's creation" : `step ${index} (${event.type}, ${event.variant})`;
    expect(actual, `${this.path.name}\nafter ${step} the API answered ${JSON.stringify(response.body)}`).toEqual(
      wanted,
    );
  }

  private expectedObservation(flow: ExpectedFlow, event: ModelEvent, expected: ModelState): Observed {
    let httpStatus = flow.rejection ? REJECTION_STATUS[flow.rejection] : 200;
    let error: string | null = flow.rejection;
    if (event.type === "xstate.init") httpStatus = 201;
    if (event.variant === "flow expiry" && this.context.transport.name === "socket") {
      httpStatus = 410;
      error = "flow_expired";
    }
    const observed: Observed = {
      httpStatus,
      error,
      state: flow.state,
      status: flow.status,
      nextEvents: flow.nextEvents,
      attemptsRemaining: flow.attemptsRemaining,
    };
    if (error === "invalid_code" || error === "invalid_password" || error === "invalid_credentials") {
      observed.errorAttemptsRemaining = flow.attemptsRemaining;
    }
    if (error === "too_many_attempts") observed.errorAttemptsRemaining = 0;
    const sessionIssued = expected.intents.some((intent) => intent.type === "sessionIssued");
    if (this.path.kind === "login" && sessionIssued) {
      observed.sessionIssued = true;
      observed.deviceTokenIssued = expected.intents.some((intent) => intent.type === "deviceTrusted");
    }
    return observed;
  }

  private observe(response: ApiResponse, wanted: Observed): Observed {
    const body = response.body ?? {};
    const flow = response.status < 300 ? body : body.flow;
    const observed: Observed = {
      httpStatus: response.status,
      error: body.error?.code ?? null,
      state: flow?.state,
      status: flow?.status,
      nextEvents: Array.isArray(flow?.nextEvents) ? [...flow.nextEvents].sort() : flow?.nextEvents,
      attemptsRemaining: flow?.attemptsRemaining,
    };
    if ("errorAttemptsRemaining" in wanted) observed.errorAttemptsRemaining = body.error?.attemptsRemaining;
    if ("sessionIssued" in wanted) {
      observed.sessionIssued = typeof flow?.output?.sessionToken === "string";
      observed.deviceTokenIssued = typeof flow?.output?.deviceToken === "string";
    }
    return observed;
  }

  /** Moves the test clock to the event's time, mapped from the model's start onto the flow's creation. */
  private moveClockTo(modelTime: number): void {
    const target = this.createdAt + (modelTime - MODEL_START);
    if (target > this.app.clock.now().getTime()) this.app.clock.set(new Date(target));
  }

  /**
   * Observes the expiry. In process the flow is read, over the socket an event is sent: the
   * runtime stores the expiry on whichever comes first.
   */
  private observeExpiry(): Promise<ApiResponse> {
    if (this.context.transport.name === "socket") {
      return this.send("POST", `/v1/flows/${this.flowId}/events`, { type: "CANCEL" });
    }
    return this.send("GET", `/v1/flows/${this.flowId}`);
  }

  private async sendVariant(event: ModelEvent): Promise<ApiResponse> {
    const { variant } = event;
    const paused = variant.endsWith(", paused");
    const enforced = variant.endsWith(", enforced");
    if (paused) await this.pauseSignIn();
    if (enforced) await setEnforcement(this.app, this.actor.organizationId!, true);

    const response = await this.send("POST", `/v1/flows/${this.flowId}/events`, await this.bodyOf(event));

    if (enforced) await setEnforcement(this.app, this.actor.organizationId!, false);
    // A failure pauses the address at once, since the threshold is 1. The pause is lifted after
    // the step, because only the paused variants expect one.
    const counted = COUNTED_FAILURES.has(response.body?.error?.code);
    if (this.path.kind === "login" && (paused || counted)) await this.liftSignInPause();
    return response;
  }

  private async bodyOf(event: ModelEvent): Promise<Record<string, unknown>> {
    const { type, variant } = event;
    if (type === "SUBMIT_CREDENTIALS") {
      const password = variant.startsWith("right password") ? PASSWORD : "wrong password";
      const deviceToken = this.actor.deviceToken ? { deviceToken: this.actor.deviceToken } : {};
      return { type, email: this.actor.email, password, ...deviceToken };
    }
    if (type === "SUBMIT_PASSWORD") {
      return { type, password: variant.startsWith("right password") ? PASSWORD : "wrong password" };
    }
    if (type === "SUBMIT_CODE") {
      const right = await this.readRightCode();
      const wrong = right === "000000" ? "111111" : "000000";
      const code = variant === "wrong code" ? wrong : right;
      return variant === "right code, remember device" ? { type, code, rememberDevice: true } : { type, code };
    }
    return { type };
  }

  /** Reads the newest code of this flow from the development mailbox, again only after a new code was sent. */
  private async readRightCode(): Promise<string> {
    const codesSent = this.previous ? contextOf(this.previous).codesSent : 0;
    if (this.code?.codesSent === codesSent) return this.code.value;
    await this.app.services.dispatcher.kick();
    await this.app.services.dispatcher.idle();
    const purpose = this.path.kind;
    const subject = renderMail({ template: "code", purpose, code: "000000", validMinutes: 1 }).subject;
    const [mail] = await this.app.services.db
      .select({ text: devMailbox.text })
      .from(devMailbox)
      .where(and(eq(devMailbox.recipient, this.actor.email.toLowerCase()), eq(devMailbox.subject, subject)))
      .orderBy(desc(devMailbox.sentAt))
      .limit(1);
    const value = mail?.text.match(/\b(\d{6})\b/)?.[1];
    if (!value) throw new Error(`${this.path.name}\nNo code was mailed to ${this.actor.email}.`);
    this.code = { codesSent, value };
    return value;
  }

  /** Pauses sign-in for the actor's address the way the runtime does: a failed sign-in in another flow. */
  private async pauseSignIn(): Promise<void> {
    if (this.path.kind !== "login") return;
    const flow = await this.app.request("POST", "/v1/flows", { kind: "login" });
    const body = { type: "SUBMIT_CREDENTIALS", email: this.actor.email, password: "wrong password" };
    const failure = await this.app.request("POST", `/v1/flows/${flow.body.id}/events`, body);
    expect(failure.body.error?.code, JSON.stringify(failure.body)).toBe("invalid_credentials");
  }

  private async liftSignInPause(): Promise<void> {
    const response = await operatorRequest(this.app, "DELETE", `/v1/admin/sign-in-pauses/${this.actor.email}`);
    expect(response.status, JSON.stringify(response.body)).toBe(204);
  }

  private async send(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    const response = await this.context.transport.request(method, path, body, { token: this.actor.token });
    if (method === "POST" && path === "/v1/flows" && response.status === 201) this.flowId = response.body.id;
    return response;
  }
}

const EVENT_TYPES = ["xstate.init", "SUBMIT_CREDENTIALS", "SUBMIT_PASSWORD", "SUBMIT_CODE", "RESEND_CODE", "CANCEL", "EXPIRE"];

/** Acts out a path through `TestModel`'s `path.test()`, which names the path when a step fails. */
export async function replayPath(context: ReplayContext, path: ModelPath): Promise<void> {
  const actor = await context.actors.actorFor(path.kind, path.scenario);
  const replay = new PathReplay(context, path, actor);
  let index = 0;
  let event: ModelEvent = { type: "xstate.init", variant: "create", now: MODEL_START };
  // `xstate/graph` types the executors' events by their type alone. They are the model's events.
  const perform = async (step: { event: { type: string }; state: { context: ModelState } }) => {
    event = step.event as ModelEvent;
    await replay.perform(event, step.state.context);
  };
  await path.test({
    events: Object.fromEntries(EVENT_TYPES.map((type) => [type, perform])),
    states: {
      "*": (snapshot) => {
        replay.check(snapshot.context, index, event);
        index += 1;
      },
    },
  });
  context.actors.afterPath(path.kind, path.scenario, String(path.state.context.snapshot.value));
}
