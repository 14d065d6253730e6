/**
 * Signing in against service processes that may die, restart or lose their database: a
 * client that, after any failed request, reads the flow again and goes on from the state
 * the service stored, as a real client would.
 */
import { and, desc, eq } from "drizzle-orm";
import type { Database } from "../../db/client.js";
import { devMailbox, mailOutbox, users } from "../../db/schema.js";
import { createId } from "../../src/crypto.js";
import { CHEAP_ARGON2, createArgon2Hasher } from "../../src/passwords.js";
import { PASSWORD } from "./app.js";
import { codeOf } from "./outbox.js";
import { type HttpResponse, callService } from "./server-process.js";

export interface SeededUser {
  id: string;
  email: string;
}

/** Inserts users with MFA on, whose password is `PASSWORD`. */
export async function seedUsersWithMfa(db: Database, count: number, prefix: string): Promise<SeededUser[]> {
  const passwordHash = await createArgon2Hasher(CHEAP_ARGON2, 1).hash(PASSWORD);
  const seeded = Array.from({ length: count }, (_, index) => ({
    id: createId(),
    email: `${prefix}${index}@example.com`,
  }));
  await db.insert(users).values(seeded.map((user) => ({ ...user, passwordHash, mfaEnabled: true })));
  return seeded;
}

/** One request's result as a client saw it: a status and error code, or a network failure. */
export interface Outcome {
  path: string;
  status: number | null;
  code?: string;
  /** The whole body of a 5xx response, to check that it reveals nothing. */
  body?: unknown;
  /** The `Retry-After` header of a 5xx response. */
  retryAfter?: string | null;
  network?: string;
}

/** Reads the newest code mailed for a flow, or null while none is sent. */
export type CodeReader = (flowId: string) => Promise<string | null>;

/** Reads codes sent through the development mailbox, which shares the service's database. */
export function readCodeFromMailbox(db: Database): CodeReader {
  return async (flowId) => {
    const [row] = await db
      .select({ messageId: mailOutbox.providerMessageId })
      .from(mailOutbox)
      .where(and(eq(mailOutbox.flowId, flowId), eq(mailOutbox.template, "code"), eq(mailOutbox.status, "sent")))
      .orderBy(desc(mailOutbox.createdAt))
      .limit(1);
    if (!row?.messageId) return null;
    const [mail] = await db.select().from(devMailbox).where(eq(devMailbox.id, row.messageId));
    return mail ? codeOf(mail.text) : null;
  };
}

export interface LoginResult {
  flowId: string;
  /** Null when the response that completed the flow was lost. */
  sessionToken: string | null;
}

const PAUSE_MS = 100;
const pause = () => new Promise((resolve) => setTimeout(resolve, PAUSE_MS));

/**
 * Signs in with a code through the services at `baseUrls` (one chosen per request, in turn),
 * recording every outcome. Throws when the flow ends anywhere but `authenticated`, or at
 * `deadline`.
 */
export async function signInThroughFailures(options: {
  baseUrls: string[];
  email: string;
  readCode: CodeReader;
  outcomes: Outcome[];
  deadline: number;
}): Promise<LoginResult> {
  const { baseUrls, email, readCode, outcomes, deadline } = options;
  let turn = 0;
  const call = async (method: string, path: string, body?: unknown): Promise<HttpResponse | null> => {
    const baseUrl = baseUrls[turn++ % baseUrls.length]!;
    try {
      const response = await callService(baseUrl, method, path, body);
      const code = response.body?.error?.code as string | undefined;
      const failure = response.status >= 500 ? { body: response.body, retryAfter: response.headers.get("retry-after") } : {};
      outcomes.push({ path, status: response.status, code, ...failure });
      return response;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      outcomes.push({ path, status: null, network: cause?.code ?? (error as Error).message });
      return null;
    }
  };

  let flowId: string | null = null;
  // Null while the client does not know what the service stored.
  let state: string | null = null;
  let usedCode: string | null = null;
  while (Date.now() < deadline) {
    if (!flowId) {
      const created = await call("POST", "/v1/flows", { kind: "login" });
      if (created?.status === 201) {
        flowId = created.body.id as string;
        state = created.body.state as string;
      } else {
        // A flow created without a response is left behind, as a real client would leave it.
        await pause();
      }
      continue;
    }
    if (state === null) {
      const read = await call("GET", `/v1/flows/${flowId}`);
      if (read?.status === 200) state = read.body.state as string;
      else await pause();
      continue;
    }
    if (state === "authenticated") return { flowId, sessionToken: null };
    if (state === "awaitingCredentials") {
      const sent = await call("POST", `/v1/flows/${flowId}/events`, { type: "SUBMIT_CREDENTIALS", email, password: PASSWORD });
      state = sent?.status === 200 ? (sent.body.state as string) : null;
      if (state === null) await pause();
      continue;
    }
    if (state === "awaitingCode") {
      const code = await readCode(flowId).catch(() => null);
      if (!code || code === usedCode) {
        await pause();
        continue;
      }
      const sent = await call("POST", `/v1/flows/${flowId}/events`, { type: "SUBMIT_CODE", code });
      if (sent?.status === 200 && sent.body.state === "authenticated") {
        return { flowId, sessionToken: sent.body.output.sessionToken as string };
      }
      // A wrong code means this one was voided; wait for the newer mail.
      if (sent?.body?.error?.code === "invalid_code") usedCode = code;
      state = null;
      await pause();
      continue;
    }
    throw new Error(`Flow ${flowId} ended in ${state}; outcomes: ${JSON.stringify(outcomes.slice(-10))}`);
  }
  throw new Error(`Sign-in of ${email} did not finish in time; last outcomes: ${JSON.stringify(outcomes.slice(-10))}`);
}
