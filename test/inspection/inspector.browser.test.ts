/**
 * The two inspector pages in headless Chromium: the relay's page, which feeds live inspection
 * to the Stately inspector in a frame, and a flow's replay page, which opens the inspector in
 * a new window. Requests to stately.ai are answered by a stand-in that records the messages it
 * receives, so no request leaves the machine.
 */
import type { Browser, BrowserContext, Frame, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InspectionRelay, startInspectionRelay } from "../../src/inspection/relay.js";
import { createLogger } from "../../src/logger.js";
import { PASSWORD, type TestApp, createTestApp, readCode } from "../support/app.js";
import {
  CHROMIUM_PATH,
  type ServedApp,
  collectPageErrors,
  hasChromium,
  launchChromium,
  saveScreenshot,
  serveOverHttp,
} from "../support/browser.js";
import { createFlow, registerWithMfa, sendEvent } from "../support/flows.js";
import { waitFor } from "../support/processes.js";

interface ReceivedMessage {
  type: string;
  sessionId?: string;
  event?: { type: string };
  snapshot?: { value?: string };
}

/**
 * Stands in for https://stately.ai/inspect: tells its opener or parent that it is ready, as the
 * real inspector does, and keeps every message it receives in `window.received`.
 */
const INSPECTOR_STAND_IN = `<!doctype html>
<title>Inspector stand-in</title>
<script>
window.received = [];
window.addEventListener("message", (event) => window.received.push(event.data));
const host = window.self === window.top ? window.opener : window.parent;
host.postMessage({ type: "@statelyai.connected" }, "*");
</script>`;

const WAIT_MS = 20_000;

if (!hasChromium) {
  console.warn(`Skipping the inspector page tests: ${CHROMIUM_PATH} is missing.`);
}

/** Summarizes the messages of one session as `event TYPE` and `snapshot STATE` lines. */
function summarize(messages: ReceivedMessage[], sessionId: string): string[] {
  return messages
    .filter((message) => message.sessionId === sessionId)
    .map((message) => {
      if (message.type === "@xstate.event") return `event ${message.event?.type}`;
      return `${message.type === "@xstate.actor" ? "actor" : "snapshot"} ${message.snapshot?.value}`;
    });
}

function receivedBy(target: Page | Frame): Promise<ReceivedMessage[]> {
  return target.evaluate<ReceivedMessage[]>("window.received ?? []");
}

describe.skipIf(!hasChromium)("inspector pages in Chromium", { timeout: 180_000 }, () => {
  let relay: InspectionRelay;
  let testApp: TestApp;
  let served: ServedApp;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    relay = await startInspectionRelay({ port: 0, logger: createLogger("silent") });
    testApp = await createTestApp({ env: { INSPECT: String(relay.address.port) } });
    served = await serveOverHttp(testApp);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 900, height: 700 } });
    await context.route("https://stately.ai/**", (route) =>
      route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: INSPECTOR_STAND_IN }),
    );
  });
  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await testApp?.close();
    await relay?.close();
  });

  it("relay page forwards live events to the inspector", async () => {
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(relay.pageUrl);
    await page.getByText("Inspector ready.").waitFor({ timeout: WAIT_MS });
    const frame = page.frames().find((candidate) => candidate.url().startsWith("https://stately.ai/"));
    expect(frame, "the inspector frame").toBeDefined();

    const flow = await createFlow(testApp, "login");
    await sendEvent(testApp, flow.id, { type: "CANCEL" });
    const sessionId = flow.id.slice(0, 8);
    const lines = await waitFor(
      async () => {
        const received = summarize(await receivedBy(frame!), sessionId);
        return received.length >= 3 ? received : undefined;
      },
      () => `three messages of ${sessionId} in the inspector frame`,
      WAIT_MS,
    );

    expect(lines).toEqual(["actor awaitingCredentials", "event CANCEL", "snapshot cancelled"]);
    expect(errors).toEqual([]);
    await saveScreenshot(page, "inspector-relay");
    await page.close();
  });

  it("replay page replays the journal into a new inspector window", async () => {
    const user = await registerWithMfa(testApp);
    const flow = await createFlow(testApp, "login");
    await sendEvent(testApp, flow.id, { type: "SUBMIT_CREDENTIALS", email: user.email, password: PASSWORD });
    const code = await readCode(testApp, user.email);
    await sendEvent(testApp, flow.id, { type: "SUBMIT_CODE", code: code === "000000" ? "111111" : "000000" });
    await sendEvent(testApp, flow.id, { type: "SUBMIT_CODE", code });

    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${served.url}/v1/dev/flows/${flow.id}/inspect`);
    await saveScreenshot(page, "inspector-replay");
    const [inspectorWindow] = await Promise.all([
      context.waitForEvent("page", { timeout: WAIT_MS }),
      page.getByRole("button", { name: "Replay in the Stately inspector" }).click(),
    ]);
    const sessionId = flow.id.slice(0, 8);
    const lines = await waitFor(
      async () => {
        const received = summarize(await receivedBy(inspectorWindow), sessionId);
        return received.length >= 7 ? received : undefined;
      },
      () => `seven messages of ${sessionId} in the inspector window`,
      WAIT_MS,
    );

    expect(lines).toEqual([
      "actor awaitingCredentials",
      "event SUBMIT_CREDENTIALS",
      "snapshot awaitingCode",
      "event SUBMIT_CODE",
      "snapshot awaitingCode",
      "event SUBMIT_CODE",
      "snapshot authenticated",
    ]);
    expect(await page.getByRole("status").textContent()).toContain("new window");
    expect(errors).toEqual([]);
  });
});
