/**
 * A local imitation of Resend's HTTP API (`POST /emails`) on 127.0.0.1, for the real Resend
 * SDK pointed at it with `RESEND_BASE_URL`. It keeps one delivery per idempotency key, as
 * Resend does, and answers with whatever failures a test scripts.
 */
import { randomUUID } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";

export const RESEND_TEST_KEY = "re_test_0123456789";

/** How the imitation answers one request. */
export type ResendAnswer =
  | "accept"
  | "rate_limited"
  | "server_error"
  /** Never answers until the server closes. */
  | "hang"
  /** Keeps the mail, then answers after `lateMs`. */
  | "accept_late"
  /** Waits `lateMs`, then keeps the mail and answers, as a request that arrives late. */
  | "arrive_late"
  | "invalid_sender"
  | "invalid_key";

export interface ResendEmail {
  id: string;
  idempotencyKey: string | null;
  from: string;
  to: string | string[];
  subject: string;
  text?: string;
  html?: string;
}

export interface ResendImitation {
  url: string;
  /** Every request received, in order, with the answer given. */
  requests: { idempotencyKey: string | null; answer: ResendAnswer }[];
  /** Mails accepted, one per idempotency key. */
  delivered: ResendEmail[];
  /** Called with each mail when it is first accepted, for callers that wait for mail. */
  onDelivered: ((email: ResendEmail) => void) | null;
  /** Answers for the next requests, consumed in order; then `accept`. */
  script(...answers: ResendAnswer[]): void;
  /** How long `accept_late` keeps the caller waiting after it keeps the mail. */
  lateMs: number;
  /** A delay before every answer, so that concurrent senders overlap. */
  latencyMs: number;
  /** Requests received and not answered yet. */
  inFlight: number;
  /** Idempotency keys of requests whose caller closed the connection before the answer. */
  abandoned: (string | null)[];
  /** Requests received with this idempotency key. */
  requestsFor(idempotencyKey: string): number;
  close(): Promise<void>;
}

const FAILURES: Partial<Record<ResendAnswer, { status: number; name: string; message: string }>> = {
  rate_limited: { status: 429, name: "rate_limit_exceeded", message: "Too many requests." },
  server_error: { status: 500, name: "internal_server_error", message: "An unexpected error occurred." },
  invalid_sender: { status: 422, name: "validation_error", message: "Invalid `from` field." },
  invalid_key: { status: 401, name: "missing_api_key", message: "API key is invalid" },
};

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

/** Starts the imitation on 127.0.0.1, on `port` or else on a free port. */
export async function startResendImitation(port = 0): Promise<ResendImitation> {
  const pending: ResendAnswer[] = [];
  const hanging = new Set<ServerResponse>();
  const byKey = new Map<string, ResendEmail>();

  const imitation: ResendImitation = {
    url: "",
    requests: [],
    delivered: [],
    onDelivered: null,
    lateMs: 3_000,
    latencyMs: 0,
    abandoned: [],
    inFlight: 0,
    requestsFor: (key) => imitation.requests.filter((request) => request.idempotencyKey === key).length,
    script: (...answers) => pending.push(...answers),
    close: () =>
      new Promise((resolve) => {
        for (const response of hanging) response.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  function deliver(idempotencyKey: string | null, body: Record<string, unknown>): ResendEmail {
    const existing = idempotencyKey ? byKey.get(idempotencyKey) : undefined;
    if (existing) return existing;
    const email: ResendEmail = {
      id: randomUUID(),
      idempotencyKey,
      from: String(body.from),
      to: body.to as string | string[],
      subject: String(body.subject),
      text: body.text as string | undefined,
      html: body.html as string | undefined,
    };
    if (idempotencyKey) byKey.set(idempotencyKey, email);
    imitation.delivered.push(email);
    imitation.onDelivered?.(email);
    return email;
  }

  const server: Server = createServer(async (request, response) => {
    if (request.method !== "POST" || request.url !== "/emails") {
      return send(response, 404, { statusCode: 404, name: "not_found", message: "Not found" });
    }
    if (request.headers.authorization !== `Bearer ${RESEND_TEST_KEY}`) {
      return send(response, 401, FAILURES.invalid_key);
    }
    const idempotencyKey = (request.headers["idempotency-key"] as string | undefined) ?? null;
    const body = JSON.parse(await readBody(request)) as Record<string, unknown>;
    const answer = pending.shift() ?? "accept";
    imitation.requests.push({ idempotencyKey, answer });
    imitation.inFlight += 1;
    response.on("close", () => {
      imitation.inFlight -= 1;
      if (!response.writableFinished) imitation.abandoned.push(idempotencyKey);
    });
    if (imitation.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, imitation.latencyMs));

    const failure = FAILURES[answer];
    if (failure) return send(response, failure.status, { statusCode: failure.status, ...failure });
    if (answer === "hang") {
      hanging.add(response);
      return;
    }
    if (answer === "arrive_late") {
      await new Promise((resolve) => setTimeout(resolve, imitation.lateMs));
    }
    const email = deliver(idempotencyKey, body);
    if (answer === "accept_late") {
      await new Promise((resolve) => setTimeout(resolve, imitation.lateMs));
    }
    send(response, 200, { id: email.id });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("The Resend imitation has no port.");
  imitation.url = `http://127.0.0.1:${address.port}`;
  return imitation;
}
