/**
 * Development-only page of one flow: how it reached its state, from its journal, as a plain
 * list and as a replay into the Stately inspector. The inspector opens at stately.ai in a new
 * window, but the page itself loads only its own bundled script.
 */
import type { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { FLOW_ID_PATTERN } from "../../flows/runtime.js";
import { type FlowReplay, loadFlowReplay } from "../../inspection/replay.js";
import { bundleReplayScript } from "../../inspection/replay-script.js";
import { type AppEnv, methodNotAllowed } from "../app.js";
import { ApiError } from "../errors.js";

const SCRIPT_PATH = "/v1/dev/assets/inspect-replay.js";

const pageHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  // The inspector window that the page opens sends its ready message to `window.opener`,
  // which the default `same-origin` would cut.
  crossOriginOpenerPolicy: "same-origin-allow-popups",
  xFrameOptions: "DENY",
  referrerPolicy: "no-referrer",
});

export function registerFlowReplayRoutes(app: Hono<AppEnv>): void {
  app.use("/v1/dev/flows/:id/inspect", pageHeaders);
  app.get("/v1/dev/flows/:id/inspect", async (c) => {
    const id = c.req.param("id");
    if (!FLOW_ID_PATTERN.test(id)) throw new ApiError("flow_not_found");

    const replay = await loadFlowReplay(c.get("services").db, id);
    if (!replay) throw new ApiError("flow_not_found");

    c.header("Cache-Control", "no-store");
    return c.html(`<!doctype html>\n${String(<ReplayPage replay={replay} />)}`);
  });
  app.all("/v1/dev/flows/:id/inspect", methodNotAllowed);

  app.get(SCRIPT_PATH, async (c) => {
    const script = await bundleReplayScript();
    return c.body(script, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
    });
  });
  app.all(SCRIPT_PATH, methodNotAllowed);
}

/** Serializes data for a `<script type="application/json">` element, which HTML never unescapes. */
function toScriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
}

function ReplayPage({ replay }: { replay: FlowReplay }) {
  const last = replay.steps.at(-1);
  const title = `${replay.kind} flow ${replay.sessionId}`;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`Journal of the ${title}`}</title>
      </head>
      <body>
        <h1>{`Journal of the ${title}`}</h1>
        {last && (
          <p>
            Now in <code id="current-state">{last.snapshot.value}</code> ({last.snapshot.status}).
          </p>
        )}
        <h2>Events, oldest first</h2>
        <ol id="journal">
          {replay.steps.map((step) => (
            <li>
              <time datetime={step.createdAt}>{step.createdAt}</time> <code class="event">{step.event.type}</code>
              {step.event.outcome && step.event.outcome !== "ok" && (
                <>
                  {" "}
                  answered <code class="outcome">{String(step.event.outcome)}</code>
                </>
              )}
              {" → "}
              <code class="state">{step.snapshot.value}</code>
            </li>
          ))}
        </ol>
        {last?.snapshot.context && (
          <>
            <h2>Context now</h2>
            <p>Only the fields that live inspection sends: the code's HMAC shows only whether there is one.</p>
            <pre id="context">{JSON.stringify(last.snapshot.context, null, 2)}</pre>
          </>
        )}
        <h2>Stately inspector</h2>
        {replay.definition === null ? (
          <p>This build has no machine of the version that stored this flow, so the inspector cannot draw it.</p>
        ) : (
          <>
            <p>
              The button opens the Stately inspector (https://stately.ai/inspect) in a new window and replays these
              events into it, with the same fields as this page.
            </p>
            <button type="button" id="open-inspector" hidden>
              Replay in the Stately inspector
            </button>
            <p id="inspector-status" role="status" />
            <script type="application/json" id="replay-data" dangerouslySetInnerHTML={{ __html: toScriptJson(replay) }} />
            <script src={SCRIPT_PATH} />
          </>
        )}
      </body>
    </html>
  );
}
