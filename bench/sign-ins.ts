/**
 * Closed-loop virtual users that sign in over the HTTP API with undici: each one creates a
 * login flow, submits the credentials, reads the code from the Resend imitation, submits it
 * and signs out, then starts again. Every tenth run remembers the device, and the next run
 * of that virtual user signs in with the device token instead of a code.
 */
import { Pool } from "undici";
import type { ResendEmail, ResendImitation } from "../test/support/resend-imitation.js";
import { BENCH_PASSWORD, BENCH_USERS, benchUserEmail } from "./database.js";
import { type LatencySummary, round, summarize } from "./stats.js";

const CODE_WAIT_MS = 10_000;
const DRAIN_MS = 15_000;

export const STEPS = ["createFlow", "submitCredentials", "readCode", "submitCode", "signOut", "trustedSignIn"] as const;
export type Step = (typeof STEPS)[number];

export interface SignInOptions {
  url: string;
  virtualUsers: number;
  warmupMs: number;
  durationMs: number;
  mailbox: CodeMailbox;
  /** Called when the measured window opens and closes, to read counters at those moments. */
  onWindow?: (edge: "start" | "end") => void;
}

export interface SignInResult {
  virtualUsers: number;
  durationS: number;
  /** Sign-ins completed in the window, with a code or with a trusted device. */
  flows: number;
  flowsPerSecond: number;
  codeFlowsPerSecond: number;
  trustedFlowsPerSecond: number;
  /** Latency of a whole sign-in with a code, from creating the flow to signing out. */
  flow: LatencySummary;
  steps: Record<Step, LatencySummary>;
  /** Unexpected answers by step and status, such as `submitCredentials 503`. */
  errors: Record<string, number>;
}

/** Hands each code mailed through the Resend imitation to the virtual user waiting for it. */
export class CodeMailbox {
  private readonly waiting = new Map<string, (code: string) => void>();

  constructor(imitation: ResendImitation) {
    imitation.onDelivered = (email) => {
      this.deliver(email);
      // Only the code matters here; dropping the copies keeps the generator's memory flat.
      imitation.delivered.length = 0;
      imitation.requests.length = 0;
    };
  }

  /** Returns the next code mailed to `email`; call it before the request that mails it. */
  expect(email: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(email);
        reject(new Error(`No code reached ${email} within ${CODE_WAIT_MS} ms.`));
      }, CODE_WAIT_MS);
      this.waiting.set(email, (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  cancel(email: string): void {
    this.waiting.delete(email);
  }

  private deliver(email: ResendEmail): void {
    const to = Array.isArray(email.to) ? email.to[0] : email.to;
    const code = email.text?.match(/security code is (\d{6})\./)?.[1];
    if (!to || !code) return;
    const resolve = this.waiting.get(to);
    this.waiting.delete(to);
    resolve?.(code);
  }
}

class UnexpectedAnswer extends Error {
  constructor(
    readonly step: Step,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(`${step} answered ${status}${code ? ` ${code}` : ""}`);
  }
}

/** Runs the virtual users through warm-up and the measured window, and summarizes the window. */
export async function runSignIns(options: SignInOptions): Promise<SignInResult> {
  const pool = new Pool(options.url, { connections: options.virtualUsers, keepAliveTimeout: 60_000 });
  const samples = new Map<Step | "flow", number[]>([["flow", []], ...STEPS.map((step) => [step, []] as [Step, number[]])]);
  const errors: Record<string, number> = {};
  let codeFlows = 0;
  let trustedFlows = 0;

  const started = performance.now();
  const windowStart = started + options.warmupMs;
  const windowEnd = windowStart + options.durationMs;
  let measuring = false;
  let stopping = false;
  const edges = [
    setTimeout(() => {
      measuring = true;
      options.onWindow?.("start");
    }, options.warmupMs),
    setTimeout(() => {
      measuring = false;
      stopping = true;
      options.onWindow?.("end");
    }, options.warmupMs + options.durationMs),
  ];

  const inWindow = (at: number) => measuring && at >= windowStart && at <= windowEnd;
  const record = (step: Step | "flow", since: number) => {
    const now = performance.now();
    if (inWindow(now) && since >= windowStart) samples.get(step)?.push(now - since);
  };

  async function call(step: Step, method: "POST", path: string, body: unknown, token?: string) {
    const headers: Record<string, string> = { "user-agent": "mfa-bench" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (token) headers.authorization = `Bearer ${token}`;
    const since = performance.now();
    const response = await pool.request({
      method,
      path,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.body.text();
    const parsed = text ? (JSON.parse(text) as Record<string, any>) : {};
    if (response.statusCode >= 300) throw new UnexpectedAnswer(step, response.statusCode, parsed.error?.code);
    record(step, since);
    return parsed;
  }

  async function virtualUser(index: number): Promise<void> {
    let run = 0;
    let deviceToken: string | null = null;
    // Each virtual user signs in as its own users only, so no two wait for the same mailbox.
    const ownedUsers = Math.floor((BENCH_USERS - 1 - index) / options.virtualUsers) + 1;
    let slot = 0;
    while (!stopping) {
      const email = benchUserEmail(index + (slot % ownedUsers) * options.virtualUsers);
      const flowStarted = performance.now();
      try {
        const flow = await call("createFlow", "POST", "/v1/flows", { kind: "login" });
        const events = `/v1/flows/${flow.id}/events`;
        let sessionToken: string;
        if (deviceToken) {
          const done = await call("trustedSignIn", "POST", events, {
            type: "SUBMIT_CREDENTIALS",
            email,
            password: BENCH_PASSWORD,
            deviceToken,
          });
          if (done.state !== "authenticated") throw new UnexpectedAnswer("trustedSignIn", 200, done.state);
          sessionToken = done.output.sessionToken;
          deviceToken = null;
          await call("signOut", "POST", "/v1/logout", undefined, sessionToken);
          if (inWindow(performance.now())) trustedFlows += 1;
        } else {
          const mail = options.mailbox.expect(email);
          mail.catch(() => {});
          let credentials: Record<string, any>;
          try {
            credentials = await call("submitCredentials", "POST", events, {
              type: "SUBMIT_CREDENTIALS",
              email,
              password: BENCH_PASSWORD,
            });
          } catch (error) {
            options.mailbox.cancel(email);
            throw error;
          }
          const waitStarted = performance.now();
          const code = await mail;
          record("readCode", waitStarted);
          const rememberDevice = run % 10 === 9;
          const done = await call("submitCode", "POST", events, { type: "SUBMIT_CODE", code, rememberDevice });
          sessionToken = done.output.sessionToken;
          if (rememberDevice) deviceToken = done.output.deviceToken;
          await call("signOut", "POST", "/v1/logout", undefined, sessionToken);
          record("flow", flowStarted);
          if (inWindow(performance.now())) codeFlows += 1;
        }
      } catch (error) {
        const key = error instanceof UnexpectedAnswer ? `${error.step} ${error.status} ${error.code ?? ""}`.trim() : String(error);
        if (inWindow(performance.now())) errors[key] = (errors[key] ?? 0) + 1;
        deviceToken = null;
        // A failing service is not hammered in a tight loop.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      run += 1;
      // The next run keeps the user whose device was just remembered.
      if (!deviceToken) slot += 1;
    }
  }

  const users = Array.from({ length: options.virtualUsers }, (_, index) => virtualUser(index));
  const drained = Promise.all(users);
  const finished = await Promise.race([
    drained.then(() => true),
    new Promise<boolean>((resolve) =>
      setTimeout(() => resolve(false), options.warmupMs + options.durationMs + DRAIN_MS),
    ),
  ]);
  for (const edge of edges) clearTimeout(edge);
  await pool.close().catch(() => {});
  if (!finished) errors["virtual users still running after the window"] = 1;

  const durationS = options.durationMs / 1000;
  const steps = Object.fromEntries(STEPS.map((step) => [step, summarize(samples.get(step) ?? [])])) as Record<
    Step,
    LatencySummary
  >;
  return {
    virtualUsers: options.virtualUsers,
    durationS,
    flows: codeFlows + trustedFlows,
    flowsPerSecond: round((codeFlows + trustedFlows) / durationS, 1),
    codeFlowsPerSecond: round(codeFlows / durationS, 1),
    trustedFlowsPerSecond: round(trustedFlows / durationS, 1),
    flow: summarize(samples.get("flow") ?? []),
    steps,
    errors,
  };
}
