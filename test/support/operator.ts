/** Steps of the operator API that many tests take: organizations, members, enforcement. */
import { expect } from "vitest";
import type { TestApp } from "./app.js";

/** The operator token of test apps built with `OPERATOR_ENV`. */
export const ADMIN_TOKEN = "operator-token-for-tests-0123456789abcdef";
export const OPERATOR_ENV = { ADMIN_TOKEN };

export function operatorRequest(app: TestApp, method: string, path: string, body?: unknown) {
  return app.request(method, path, body, { token: ADMIN_TOKEN });
}

export async function createOrganization(app: TestApp, name = "Acme"): Promise<{ id: string; name: string }> {
  const response = await operatorRequest(app, "POST", "/v1/admin/organizations", { name });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

export async function addMember(app: TestApp, organizationId: string, userId: string): Promise<void> {
  const response = await operatorRequest(app, "PUT", `/v1/admin/organizations/${organizationId}/members/${userId}`);
  expect(response.status, JSON.stringify(response.body)).toBe(204);
}

export async function setEnforcement(app: TestApp, organizationId: string, mfaEnforced: boolean) {
  const response = await operatorRequest(app, "PATCH", `/v1/admin/organizations/${organizationId}`, { mfaEnforced });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as { id: string; name: string; mfaEnforced: boolean; memberCount: number };
}

/** Creates an organization that enforces MFA with one member. */
export async function createEnforcingOrganization(app: TestApp, userId: string, name = "Acme") {
  const organization = await createOrganization(app, name);
  await addMember(app, organization.id, userId);
  await setEnforcement(app, organization.id, true);
  return organization;
}
