// Replays a flow's journal into the Stately inspector. The service bundles this file with
// `@statelyai/inspect` and serves it from its own origin, so the page loads no outside script.
// A click opens the inspector in a new window, as createBrowserInspector does, then sends the
// flow's actor and each journal entry's event and resulting snapshot, oldest first.
import { createBrowserInspector } from "@statelyai/inspect";

const replay = JSON.parse(document.getElementById("replay-data").textContent);
const button = document.getElementById("open-inspector");
const status = document.getElementById("inspector-status");

function sendReplay(inspector) {
  const [first, ...rest] = replay.steps;
  const actor = { sessionId: replay.sessionId, logic: { config: replay.definition } };
  inspector.actor(actor, first.snapshot);
  for (const step of rest) {
    inspector.event(replay.sessionId, step.event);
    inspector.snapshot(replay.sessionId, step.snapshot, { event: step.event });
  }
}

button.hidden = false;
button.addEventListener("click", () => {
  // The window opens from the click, so pop-up blockers let it through. Events wait in the
  // inspector's buffer until the new window reports that it is ready.
  const inspector = createBrowserInspector({ maxDeferredEvents: 2 * replay.steps.length + 10 });
  sendReplay(inspector);
  status.textContent =
    "The inspector opens in a new window and shows the replay once it has loaded. " +
    "If no window opened, allow pop-ups for this page.";
});
