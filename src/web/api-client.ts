/**
 * The pages' client of the v1 API. Pages send requests to the API routes in-process through
 * `app.fetch`, the way any other client would over HTTP: bearer tokens, JSON bodies and the
 * error envelope, nothing else. The page request's connection (`c.env`), user agent,
 * forwarded address, request id and device cookie go along, as on a request that the
 * browser sent to the API itself.
 */
import type { Context, Hono } from "hono";
import { getCookie } from "hono/cookie";
import type { FlowView } from "../flows/view.js";
import type { AppEnv } from "../http/app.js";
import { DEVICE_COOKIE } from "../http/request.js";

/** The `error` member of the API's error envelope. */
export interface ApiErrorBody {
  code: string;
  message: string;
  attemptsRemaining?: number;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  /** The body of a 2xx response. */
  data?: T;
  /** The error of a 4xx or 5xx response. */
  error?: ApiErrorBody;
  /** The flow an error concerns, when the API includes it. */
  flow?: FlowView;
}

export interface RequestOptions {
  token?: string | null;
  body?: unknown;
}

export type ApiClient = <T>(
  c: Context<AppEnv>,
  method: string,
  path: string,
  options?: RequestOptions,
) => Promise<ApiResponse<T>>;

const FORWARDED_HEADERS = ["user-agent", "x-forwarded-for"];

/** Creates a client that sends requests to the v1 routes of `app`. */
export function createApiClient(app: Hono<AppEnv>): ApiClient {
  return async <T>(
    c: Context<AppEnv>,
    method: string,
    path: string,
    options: RequestOptions = {},
  ) => {
    const headers = new Headers({ "x-request-id": c.get("requestId") });
    for (const name of FORWARDED_HEADERS) {
      const value = c.req.header(name);
      if (value) headers.set(name, value);
    }
    // Only the device cookie: the API reads it when a sign-in presents no device token.
    const deviceToken = getCookie(c, DEVICE_COOKIE);
    if (deviceToken) headers.set("cookie", `${DEVICE_COOKIE}=${deviceToken}`);
    if (options.token) headers.set("authorization", `Bearer ${options.token}`);
    let body: string | undefined;
    if (options.body !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(options.body);
    }

    const request = new Request(new URL(path, c.req.url), { method, headers, body });
    const response = await app.fetch(request, c.env);

    const parsed = await readJsonBody(response);
    const result: ApiResponse<T> = { status: response.status, headers: response.headers };
    if (response.ok) {
      result.data = parsed as T;
    } else {
      result.error = (parsed?.error as ApiErrorBody | undefined) ?? UNREADABLE_ERROR;
      result.flow = parsed?.flow as FlowView | undefined;
    }
    return result;
  };
}

const UNREADABLE_ERROR: ApiErrorBody = {
  code: "internal_error",
  message: "The API sent no error envelope.",
};

async function readJsonBody(response: Response): Promise<Record<string, unknown> | undefined> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Reads a flow; enrollment and disablement flows need their owner's session token. */
export function readFlow(api: ApiClient, c: Context<AppEnv>, flowId: string, token?: string) {
  return api<FlowView>(c, "GET", `/v1/flows/${encodeURIComponent(flowId)}`, { token });
}

/** Sends one event to a flow. */
export function sendFlowEvent(
  api: ApiClient,
  c: Context<AppEnv>,
  flowId: string,
  event: Record<string, unknown>,
  token?: string,
) {
  return api<FlowView>(c, "POST", `/v1/flows/${encodeURIComponent(flowId)}/events`, {
    token,
    body: event,
  });
}
