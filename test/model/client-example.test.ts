/**
 * The README's example for client teams, run as written: its generated sign-in paths are walked
 * on a stand-in for a UI that calls the HTTP API, so the example cannot fall out of date.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SignInPage, signInModel, testSignInPath } from "../../examples/sign-in-paths.js";
import { type ApiResponse, PASSWORD, type TestApp, createTestApp, readCode } from "../support/app.js";
import { registerWithMfa } from "../support/flows.js";

let app: TestApp;
let email: string;
beforeAll(async () => {
  // Wrong passwords of all paths add up on one address, and no pause should stop them here.
  app = await createTestApp({ env: { SIGN_IN_PAUSE_THRESHOLD: "1000" } });
  email = (await registerWithMfa(app)).email;
});
afterAll(() => app.close());

/** Creates a sign-in page that is the HTTP API itself: each action is a request, each step the flow's state. */
function createApiPage(): SignInPage {
  let flowId: string | null = null;
  let last: ApiResponse | null = null;
  const send = async (event: Record<string, unknown>) => {
    last = await app.request("POST", `/v1/flows/${flowId}/events`, event);
  };
  return {
    submitPassword: (right) => send({ type: "SUBMIT_CREDENTIALS", email, password: right ? PASSWORD : "wrong password" }),
    async submitCode(right) {
      const code = await readCode(app, email);
      const wrong = code === "000000" ? "111111" : "000000";
      await send({ type: "SUBMIT_CODE", code: right ? code : wrong });
    },
    cancel: () => send({ type: "CANCEL" }),
    async expectStep(state) {
      if (!flowId) {
        last = await app.request("POST", "/v1/flows", { kind: "login" });
        flowId = last.body.id;
      }
      const flow = last!.status < 300 ? last!.body : last!.body.flow;
      expect(flow?.state, JSON.stringify(last!.body)).toBe(state);
    },
  };
}

describe("README example for client teams", () => {
  it("is the code of examples/sign-in-paths.ts", () => {
    const readme = readFileSync("README.md", "utf8");
    const example = readFileSync("examples/sign-in-paths.ts", "utf8");

    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
  });

  it("generates paths to every state of a sign-in with a code", () => {
    const paths = signInModel.getShortestPaths();
    const reached = new Set(paths.map((path) => String(path.state.value)));

    expect([...reached].sort()).toEqual(["authenticated", "awaitingCode", "cancelled", "locked"]);
    // The README gives this number.
    expect(paths.length).toBe(22);
  });

  it("walks every path on a page backed by the API", async () => {
    for (const path of signInModel.getShortestPaths()) {
      await testSignInPath(path, createApiPage());
    }
  });
});
