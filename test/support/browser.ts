/**
 * Headless Chromium for the page tests: Debian's `chromium` package driven by
 * `playwright-core` (which downloads no browser), and the test app served on a real socket.
 */
import { existsSync, mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { createAdaptorServer } from "@hono/node-server";
import { type Browser, type Page, chromium } from "playwright-core";
import { expect } from "vitest";
import type { TestApp } from "./app.js";

/** Debian's Chromium; `CHROMIUM_PATH` names another build, for example on a developer's machine. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM_PATH);

/** Where each run saves its screenshots; git ignores `test-results/`. */
export const SCREENSHOT_DIR = join("test-results", "screenshots");

// Ports that servers of this project's tests may use; the first free one is taken.
const FIRST_PORT = 4200;
const LAST_PORT = 4299;

// Without the background-networking flags Chromium tries to reach Google's services, and the
// network here is closed. `launch()` gives each browser a new, empty user data directory.
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS });
}

export interface ServedApp {
  url: string;
  close(): Promise<void>;
}

/** Serves the test app on 127.0.0.1, on the first free port from 4200 to 4299. */
export async function serveOverHttp(testApp: TestApp): Promise<ServedApp> {
  for (let port = FIRST_PORT; port <= LAST_PORT; port += 1) {
    const server = createAdaptorServer({ fetch: testApp.app.fetch }) as Server;
    const listening = await new Promise<boolean>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) =>
        error.code === "EADDRINUSE" ? resolve(false) : reject(error),
      );
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (!listening) continue;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
  throw new Error(`No free port from ${FIRST_PORT} to ${LAST_PORT} for the page tests.`);
}

/** Saves a full-page screenshot as `test-results/screenshots/NAME.png`. */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/**
 * Collects console errors and uncaught exceptions, such as Content-Security-Policy violations
 * and assets that failed to load. A page that shows an error with a 4xx status is expected,
 * so Chromium's message about the document's own status is left out.
 */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const documentStatus =
      message.location().url === page.url() && message.text().startsWith("Failed to load resource");
    if (!documentStatus) errors.push(`${message.text()} (${message.location().url})`);
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return errors;
}

// The suite compiles without the DOM library, so code that runs in the page is a string.
const UNLABELLED_INPUTS = `[...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
  .filter((element) => element.labels.length === 0)
  .map((element) => element.outerHTML)`;

/** Checks that every input, select and textarea of the page has a label. */
export async function expectLabelledInputs(page: Page): Promise<void> {
  const unlabelled = await page.evaluate<string[]>(UNLABELLED_INPUTS);
  expect(unlabelled, `inputs without a label on ${page.url()}`).toEqual([]);
}

/** Returns the id of the focused element. */
export function focusedId(page: Page): Promise<string | undefined> {
  return page.evaluate<string | undefined>("document.activeElement?.id");
}

/** Waits until the outbox has handed every queued mail to the development mailbox. */
export async function deliverMail(testApp: TestApp): Promise<void> {
  await testApp.services.dispatcher.kick();
  await testApp.services.dispatcher.idle();
}

/** Reads the newest code for an address from the development mailbox page, as a newcomer would. */
export async function readCodeFromMailboxPage(
  testApp: TestApp,
  page: Page,
  baseUrl: string,
  email: string,
) {
  await deliverMail(testApp);
  await page.goto(`${baseUrl}/dev/mailbox?to=${encodeURIComponent(email)}`);
  const newest = await page.locator("ol.mails pre").first().textContent();
  const code = newest?.match(/\b(\d{6})\b/)?.[1];
  if (!code) throw new Error(`No code in the newest mail to ${email}: ${newest}`);
  return code;
}
