/**
 * The inspection relay: a WebSocket server on 127.0.0.1 that forwards every message one client
 * sends to all other clients, and replays the latest messages to a client that connects late.
 * Services report to it; the page it serves embeds the Stately inspector and forwards the
 * messages to it. It speaks the protocol of `createInspectorServer` from
 * `@statelyai/inspect/server` (0.7), which listens on every interface and so is not used here.
 *
 * Browsers let any site open a WebSocket to 127.0.0.1, so a connection that carries an
 * `Origin` is accepted only from this relay's own page or from the Stately inspector.
 */
import { readFileSync } from "node:fs";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import type { Logger } from "../logger.js";
import { RELAY_HOST, relayAddresses } from "./addresses.js";

/** The inspector that the relay's page embeds, as `@statelyai/inspect` opens it. */
export const STATELY_INSPECTOR_URL = "https://stately.ai/inspect";

/** Messages kept for a client that connects late, as many as `createInspectorServer` keeps. */
const REPLAY_LIMIT = 200;
/**
 * Bytes of those messages kept at most. The service's own messages are about 1 KB each, so
 * this bound only matters when another local client sends large ones.
 */
const REPLAY_MAX_BYTES = 2 * 1024 * 1024;
const MAX_MESSAGE_BYTES = 1024 * 1024;
/** Unsent bytes past which a client that reads slowly misses messages instead of growing memory. */
const MAX_CLIENT_BUFFERED_BYTES = 4 * 1024 * 1024;

export interface InspectionRelay {
  /** The WebSocket address that services report to, such as `ws://127.0.0.1:8080`. */
  url: string;
  /** The page to open in a browser: the Stately inspector, fed with the relay's messages. */
  pageUrl: string;
  address: AddressInfo;
  close(): Promise<void>;
}

export interface InspectionRelayOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port: number;
  logger: Logger;
}

const ASSETS: Record<string, { file: string; type: string }> = {
  "/relay-bridge.js": { file: "relay-bridge.js", type: "text/javascript; charset=utf-8" },
  "/relay-bridge.css": { file: "relay-bridge.css", type: "text/css; charset=utf-8" },
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Flows in the Stately inspector</title>
<link rel="stylesheet" href="/relay-bridge.css">
</head>
<body>
<p id="status">Connecting to the relay…</p>
<iframe id="inspector" title="Stately inspector" src="${STATELY_INSPECTOR_URL}"></iframe>
<script src="/relay-bridge.js"></script>
</body>
</html>`;

/** Starts the relay on 127.0.0.1 and resolves once it listens. */
export async function startInspectionRelay(options: InspectionRelayOptions): Promise<InspectionRelay> {
  const { logger } = options;
  const assets = new Map(
    Object.entries(ASSETS).map(([path, asset]) => [
      path,
      { body: readFileSync(new URL(`./assets/${asset.file}`, import.meta.url)), type: asset.type },
    ]),
  );
  // Known once the server listens, which matters when `options.port` is 0.
  let port = options.port;
  const localHosts = () => [`${RELAY_HOST}:${port}`, `localhost:${port}`];
  const allowedOrigins = () => [new URL(STATELY_INSPECTOR_URL).origin, ...localHosts().map((host) => `http://${host}`)];

  const server = createServer((request, response) => servePage(request, response, localHosts(), assets, port));
  const relay = new WebSocketServer({
    server,
    maxPayload: MAX_MESSAGE_BYTES,
    verifyClient: ({ origin }: { origin?: string }) => {
      const allowed = !origin || allowedOrigins().includes(origin);
      if (!allowed) logger.warn({ origin }, "inspection relay rejected a WebSocket from another site");
      return allowed;
    },
  });

  const recent: string[] = [];
  let recentBytes = 0;
  relay.on("connection", (client) => {
    client.on("error", (error) => logger.warn({ err: error }, "inspection relay client failed"));
    for (const message of recent) client.send(message);
    client.on("message", (data, isBinary) => {
      if (isBinary) return;
      const message = data.toString();
      recent.push(message);
      recentBytes += Buffer.byteLength(message);
      while (recent.length > REPLAY_LIMIT || recentBytes > REPLAY_MAX_BYTES) {
        recentBytes -= Buffer.byteLength(recent.shift() ?? "");
      }
      for (const other of relay.clients) {
        if (other === client || other.readyState !== WebSocket.OPEN) continue;
        if (other.bufferedAmount < MAX_CLIENT_BUFFERED_BYTES) other.send(message);
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      const inUse = error.code === "EADDRINUSE";
      const message =
        `Port ${options.port} on ${RELAY_HOST} is in use, so the inspection relay cannot start. ` +
        "Set INSPECT to a free port.";
      reject(inUse ? new Error(message) : error);
    });
    server.listen(options.port, RELAY_HOST, () => resolve());
  });
  const address = server.address() as AddressInfo;
  port = address.port;
  const { url, pageUrl } = relayAddresses(port);
  logger.info({ relay: url, page: pageUrl }, "inspection relay listening");

  return {
    url,
    pageUrl,
    address,
    async close() {
      for (const client of relay.clients) client.terminate();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Serves the relay's page and its two assets, only to requests addressed to this machine. */
function servePage(
  request: IncomingMessage,
  response: ServerResponse,
  localHosts: string[],
  assets: Map<string, { body: Buffer; type: string }>,
  port: number,
): void {
  // A Host other than 127.0.0.1 or localhost is a page of another site whose name resolves here.
  if (!localHosts.includes(request.headers.host ?? "")) {
    response.writeHead(421, { "content-type": "text/plain; charset=utf-8" }).end("Misdirected request.\n");
    return;
  }
  const path = new URL(request.url ?? "/", "http://relay").pathname;
  const asset = assets.get(path);
  if (request.method !== "GET" || (path !== "/" && !asset)) {
    response.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("Not found.\n");
    return;
  }
  response.writeHead(200, {
    "content-type": asset ? asset.type : "text/html; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "content-security-policy": [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      `connect-src ws://${RELAY_HOST}:${port} ws://localhost:${port}`,
      `frame-src ${new URL(STATELY_INSPECTOR_URL).origin}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
  });
  response.end(asset ? asset.body : PAGE);
}
