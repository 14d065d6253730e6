/**
 * The flow machines, importable by clients that generate the same paths for their own tests.
 * They are pure definitions: no I/O, no imports from the service.
 */
import { DISABLEMENT_MACHINE_VERSION, disablementEventSchema, disablementMachine } from "./disablement.js";
import { ENROLLMENT_MACHINE_VERSION, enrollmentEventSchema, enrollmentMachine } from "./enrollment.js";
import { LOGIN_MACHINE_VERSION, loginEventSchema, loginMachine } from "./login.js";

export * from "./shared.js";
export * from "./login.js";
export * from "./enrollment.js";
export * from "./disablement.js";

export type FlowKind = "login" | "enrollment" | "disablement";
export const FLOW_KINDS: readonly FlowKind[] = ["login", "enrollment", "disablement"];

/** Each kind's machine, its version and the schema of the events that clients send. */
export const flowDefinitions = {
  login: { machine: loginMachine, version: LOGIN_MACHINE_VERSION, eventSchema: loginEventSchema },
  enrollment: {
    machine: enrollmentMachine,
    version: ENROLLMENT_MACHINE_VERSION,
    eventSchema: enrollmentEventSchema,
  },
  disablement: {
    machine: disablementMachine,
    version: DISABLEMENT_MACHINE_VERSION,
    eventSchema: disablementEventSchema,
  },
} as const;
