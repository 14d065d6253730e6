/** Request and response schemas of the HTTP API; the OpenAPI document is generated from them. */
import { z } from "zod";
import { FLOW_KINDS } from "../../machines/index.js";

export const emailSchema = z.email().max(254);
/** Passwords are 8 to 128 characters at registration. */
export const newPasswordSchema = z.string().min(8).max(128);

export const createUserBody = z.strictObject({ email: emailSchema, password: newPasswordSchema });
export const createFlowBody = z.strictObject({ kind: z.enum(FLOW_KINDS as [string, ...string[]]) });

export const userSchema = z
  .object({ id: z.string(), email: z.string(), mfaEnabled: z.boolean() })
  .meta({ id: "User" });

export const organizationSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  mfaEnforced: z.boolean(),
});

export const meSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    mfaEnabled: z.boolean(),
    mfaRequired: z.boolean().meta({ description: "MFA is on, or the organization enforces it" }),
    organization: organizationSummarySchema.nullable(),
  })
  .meta({ id: "Me" });

export const flowSchema = z
  .object({
    id: z.string().meta({ description: "For a login flow, the only credential of its client" }),
    kind: z.enum(["login", "enrollment", "disablement"]),
    state: z.string(),
    status: z.enum(["active", "done"]),
    nextEvents: z.array(z.string()),
    expiresAt: z.iso.datetime(),
    codeExpiresAt: z.iso.datetime().optional(),
    resendAvailableAt: z.iso.datetime().optional(),
    attemptsRemaining: z.number().int().optional(),
    sentTo: z.string().optional(),
    output: z
      .object({
        sessionToken: z.string(),
        sessionExpiresAt: z.iso.datetime(),
        deviceToken: z.string().optional(),
        deviceTrustExpiresAt: z.iso.datetime().optional(),
      })
      .optional()
      .meta({ description: "Only in the response to the event that completed a login" }),
  })
  .meta({ id: "Flow" });

export const errorSchema = z
  .object({
    error: z
      .object({ code: z.string(), message: z.string() })
      .catchall(z.unknown())
      .meta({ description: "Clients branch on `code`, never on `message`" }),
    flow: flowSchema.optional(),
  })
  .meta({ id: "Error" });

export const mailboxSchema = z.object({
  messages: z.array(
    z.object({
      id: z.string(),
      to: z.string(),
      subject: z.string(),
      text: z.string(),
      html: z.string(),
      sentAt: z.iso.datetime(),
    }),
  ),
});

export const createOrganizationBody = z.strictObject({ name: z.string().trim().min(1).max(200) });
export const updateOrganizationBody = z.strictObject({ mfaEnforced: z.boolean() });

export const organizationSchema = organizationSummarySchema
  .extend({ memberCount: z.number().int() })
  .meta({ id: "Organization" });

export const deviceListSchema = z
  .object({
    devices: z.array(
      z.object({
        id: z.string(),
        createdAt: z.iso.datetime(),
        expiresAt: z.iso.datetime(),
        lastUsedAt: z.iso.datetime().nullable().meta({ description: "Last sign-in that this device let skip the code" }),
        userAgent: z.string().nullable().meta({ description: "User-Agent of the sign-in that trusted the device" }),
      }),
    ),
  })
  .meta({ id: "DeviceList" });
