/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { disablementEventSchema, enrollmentEventSchema, loginEventSchema } from "../../machines/index.js";
import { ERRORS, type ErrorCode } from "./errors.js";
import {
  createFlowBody,
  createOrganizationBody,
  createUserBody,
  deviceListSchema,
  errorSchema,
  flowSchema,
  mailboxSchema,
  meSchema,
  organizationSchema,
  updateOrganizationBody,
  userSchema,
} from "./schemas.js";

type Method = "get" | "post" | "put" | "patch" | "delete";

interface PathSpec {
  method: Method;
  path: string;
  summary: string;
  tags: string[];
  auth?: "session" | "operator";
  body?: z.ZodType;
  params?: Record<string, z.ZodType>;
  query?: Record<string, z.ZodType>;
  success: { status: number; description: string; schema?: z.ZodType };
  errors: ErrorCode[];
}

const flowId = { id: z.string().meta({ description: "Flow id" }) };

const eventBody = z
  .union([loginEventSchema, enrollmentEventSchema, disablementEventSchema])
  .meta({ description: "An event that the flow's kind accepts; unknown fields are rejected" });

const userId = { id: z.string().meta({ description: "User id" }) };
const organizationId = { id: z.string().meta({ description: "Organization id" }) };
const memberIds = { ...organizationId, userId: z.string().meta({ description: "User id" }) };
/** Every operator route returns 401 for a wrong token and 404 when ADMIN_TOKEN is not configured. */
const OPERATOR_ERRORS: ErrorCode[] = ["unauthenticated", "not_found"];

/** Routes under `/v1/admin`, authenticated by `ADMIN_TOKEN`. */
const OPERATOR_PATHS: PathSpec[] = [
  {
    method: "post",
    path: "/v1/admin/users",
    summary: "Create a user, also while REGISTRATION=closed",
    tags: ["operator"],
    auth: "operator",
    body: createUserBody,
    success: { status: 201, description: "The new user", schema: userSchema },
    errors: [...OPERATOR_ERRORS, "invalid_request", "email_taken", "unsupported_media_type", "payload_too_large"],
  },
  {
    method: "post",
    path: "/v1/admin/users/{id}/mfa-reset",
    summary: "Turn a user's MFA off, revoke the trusted devices and sessions, and mail the user",
    tags: ["operator"],
    auth: "operator",
    params: userId,
    success: { status: 204, description: "Reset" },
    errors: OPERATOR_ERRORS,
  },
  {
    method: "delete",
    path: "/v1/admin/users/{id}/sessions",
    summary: "Revoke every session of a user",
    tags: ["operator"],
    auth: "operator",
    params: userId,
    success: { status: 204, description: "Revoked" },
    errors: OPERATOR_ERRORS,
  },
  {
    method: "post",
    path: "/v1/admin/organizations",
    summary: "Create an organization; it does not enforce MFA yet",
    tags: ["operator"],
    auth: "operator",
    body: createOrganizationBody,
    success: { status: 201, description: "The new organization", schema: organizationSchema },
    errors: [...OPERATOR_ERRORS, "invalid_request", "unsupported_media_type", "payload_too_large"],
  },
  {
    method: "get",
    path: "/v1/admin/organizations/{id}",
    summary: "Read an organization with its member count",
    tags: ["operator"],
    auth: "operator",
    params: organizationId,
    success: { status: 200, description: "The organization", schema: organizationSchema },
    errors: OPERATOR_ERRORS,
  },
  {
    method: "patch",
    path: "/v1/admin/organizations/{id}",
    summary:
      "Turn MFA enforcement on or off: members are mailed, and turning it on revokes their password-only sessions",
    tags: ["operator"],
    auth: "operator",
    params: organizationId,
    body: updateOrganizationBody,
    success: { status: 200, description: "The organization", schema: organizationSchema },
    errors: [...OPERATOR_ERRORS, "invalid_request", "unsupported_media_type", "payload_too_large"],
  },
  {
    method: "put",
    path: "/v1/admin/organizations/{id}/members/{userId}",
    summary: "Add a user to an organization; a user belongs to at most one",
    tags: ["operator"],
    auth: "operator",
    params: memberIds,
    success: { status: 204, description: "The user is a member" },
    errors: [...OPERATOR_ERRORS, "member_of_another_organization"],
  },
  {
    method: "delete",
    path: "/v1/admin/organizations/{id}/members/{userId}",
    summary: "Remove a member from an organization",
    tags: ["operator"],
    auth: "operator",
    params: memberIds,
    success: { status: 204, description: "Removed" },
    errors: OPERATOR_ERRORS,
  },
];

export const API_PATHS: PathSpec[] = [
  {
    method: "post",
    path: "/v1/users",
    summary: "Register a user (404 when REGISTRATION=closed)",
    tags: ["users"],
    body: createUserBody,
    success: { status: 201, description: "The new user", schema: userSchema },
    errors: [
      "invalid_request",
      "not_found",
      "email_taken",
      "unsupported_media_type",
      "payload_too_large",
      "rate_limited",
      "service_unavailable",
    ],
  },
  {
    method: "get",
    path: "/v1/me",
    summary: "The signed-in user",
    tags: ["users"],
    auth: "session",
    success: { status: 200, description: "The user", schema: meSchema },
    errors: ["unauthenticated"],
  },
  {
    method: "post",
    path: "/v1/logout",
    summary: "Sign out: revokes this session only",
    tags: ["users"],
    auth: "session",
    success: { status: 204, description: "Signed out" },
    errors: ["unauthenticated"],
  },
  {
    method: "get",
    path: "/v1/devices",
    summary: "The signed-in user's unrevoked, unexpired trusted devices, newest first",
    tags: ["devices"],
    auth: "session",
    success: { status: 200, description: "The devices", schema: deviceListSchema },
    errors: ["unauthenticated"],
  },
  {
    method: "delete",
    path: "/v1/devices",
    summary: "Revoke every trusted device of the signed-in user",
    tags: ["devices"],
    auth: "session",
    success: { status: 204, description: "Revoked" },
    errors: ["unauthenticated"],
  },
  {
    method: "delete",
    path: "/v1/devices/{id}",
    summary: "Revoke one trusted device (404 when it is not the user's)",
    tags: ["devices"],
    auth: "session",
    params: { id: z.string().meta({ description: "Trusted device id" }) },
    success: { status: 204, description: "Revoked" },
    errors: ["unauthenticated", "not_found"],
  },
  ...OPERATOR_PATHS,
  {
    method: "post",
    path: "/v1/flows",
    summary: "Create a flow (enrollment and disablement need a session)",
    tags: ["flows"],
    body: createFlowBody,
    success: { status: 201, description: "The new flow", schema: flowSchema },
    errors: [
      "invalid_request",
      "unauthenticated",
      "mfa_enforced_by_organization",
      "mfa_already_enabled",
      "mfa_not_enabled",
      "rate_limited",
    ],
  },
  {
    method: "get",
    path: "/v1/flows/{id}",
    summary: "Read a flow",
    tags: ["flows"],
    params: flowId,
    success: { status: 200, description: "The flow", schema: flowSchema },
    errors: ["unauthenticated", "flow_not_found", "flow_expired"],
  },
  {
    method: "post",
    path: "/v1/flows/{id}/events",
    summary: "Send an event to a flow",
    tags: ["flows"],
    params: flowId,
    body: eventBody,
    success: { status: 200, description: "The flow after the event", schema: flowSchema },
    errors: [
      "invalid_request",
      "flow_not_found",
      "unauthenticated",
      "flow_expired",
      "flow_finished",
      "event_not_allowed",
      "mfa_enforced_by_organization",
      "rate_limited",
      "too_many_failures",
      "conflict",
      "invalid_credentials",
      "invalid_password",
      "code_expired",
      "invalid_code",
      "too_many_attempts",
      "resend_too_soon",
      "resend_limit_reached",
      "service_unavailable",
    ],
  },
  {
    method: "delete",
    path: "/v1/admin/sign-in-pauses/{email}",
    summary: "Lift the sign-in pause of an address and clear its failure count",
    tags: ["operator"],
    auth: "operator",
    params: { email: z.email().meta({ description: "The address, in any letter case" }) },
    success: { status: 204, description: "Lifted, or there was no pause" },
    errors: ["invalid_request", "unauthenticated", "not_found"],
  },
  {
    method: "get",
    path: "/v1/machines",
    summary: "The flow machines and their versions",
    tags: ["machines"],
    success: { status: 200, description: "The machines" },
    errors: [],
  },
  {
    method: "get",
    path: "/v1/machines/{kind}",
    summary: "A machine's definition as XState JSON, for Stately's tools",
    tags: ["machines"],
    params: { kind: z.enum(["login", "enrollment", "disablement"]) },
    success: { status: 200, description: "The result of machine.toJSON()" },
    errors: ["not_found"],
  },
  {
    method: "get",
    path: "/v1/dev/mailbox",
    summary: "Development mode only: mails as sent by the development transport, newest first",
    tags: ["development"],
    query: { to: z.string().optional() },
    success: { status: 200, description: "The messages", schema: mailboxSchema },
    errors: ["not_found"],
  },
  {
    method: "get",
    path: "/v1/dev/flows/{id}/inspect",
    summary:
      "Development mode only: an HTML page of a flow's journal, each event and the state it led to, " +
      "with a button that replays them into the Stately inspector",
    tags: ["development"],
    params: { id: z.string().meta({ description: "Flow id" }) },
    success: { status: 200, description: "The page (text/html)" },
    errors: ["flow_not_found", "not_found"],
  },
  {
    method: "get",
    path: "/healthz",
    summary: "Liveness",
    tags: ["health"],
    success: { status: 200, description: "The process is up" },
    errors: [],
  },
  {
    method: "get",
    path: "/readyz",
    summary: "Readiness: the database answers",
    tags: ["health"],
    success: { status: 200, description: "Ready" },
    errors: ["service_unavailable"],
  },
];

/** Registers one route of the API in a registry, with its errors grouped by status. */
function register(registry: OpenAPIRegistry, spec: PathSpec): void {
  const responses: Record<string, { description: string; content?: Record<string, { schema: z.ZodType }> }> = {
    [spec.success.status]: {
      description: spec.success.description,
      ...(spec.success.schema ? { content: { "application/json": { schema: spec.success.schema } } } : {}),
    },
  };
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of [...spec.errors, "internal_error" as const]) {
    const status = ERRORS[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, codes] of byStatus) {
    responses[status] = {
      description: codes.map((code) => `\`${code}\``).join(", "),
      content: { "application/json": { schema: errorSchema } },
    };
  }
  registry.registerPath({
    method: spec.method,
    path: spec.path,
    summary: spec.summary,
    tags: spec.tags,
    ...(spec.auth ? { security: [{ [spec.auth]: [] }] } : {}),
    request: {
      ...(spec.params ? { params: z.object(spec.params) } : {}),
      ...(spec.query ? { query: z.object(spec.query) } : {}),
      ...(spec.body ? { body: { content: { "application/json": { schema: spec.body } }, required: true } } : {}),
    },
    responses,
  });
}

/** Builds the OpenAPI 3.1 document of the given routes. */
export function createOpenApiDocument(paths: PathSpec[] = API_PATHS): object {
  const registry = new OpenAPIRegistry();
  registry.registerComponent("securitySchemes", "session", {
    type: "http",
    scheme: "bearer",
    description: "A session token from a completed login flow",
  });
  registry.registerComponent("securitySchemes", "operator", {
    type: "http",
    scheme: "bearer",
    description: "ADMIN_TOKEN from the environment",
  });
  for (const spec of paths) register(registry, spec);
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: "3.1.0",
    info: {
      title: "Email-code MFA service",
      version: "1.0.0",
      description: "Sign-in with a password and an emailed six-digit code, as persisted state machines.",
    },
  });
}

export type { PathSpec };
