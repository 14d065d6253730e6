/**
 * The machine definitions load without error. Every other fast test imports them statically,
 * and the vitest runner of Stryker 9.6 counts a test file that fails to import as one with no
 * failed tests. So a mutant that breaks a machine definition or an event schema at load time
 * would survive unless a test imports the module itself, as this one does.
 */
import { expect, it } from "vitest";

it("machine definitions load", async () => {
  const machines = await import("../../machines/index.js");
  expect(Object.keys(machines.flowDefinitions)).toEqual(["login", "enrollment", "disablement"]);
});
