/**
 * The service's WebSocket to the inspection relay. A relay that is missing or reads slowly
 * must cost a request nothing: messages wait in a bounded queue, the oldest are dropped past
 * it, the drop is logged once, and the socket's unsent bytes stay under a bound.
 */
import type { IncomingMessage } from "node:http";
import { createServer } from "node:net";
import type { StatelyInspectionEvent } from "@statelyai/inspect";
import { WebSocket, WebSocketServer } from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { type InspectionRelay, startInspectionRelay } from "../../src/inspection/relay.js";
import { RelayConnection } from "../../src/inspection/relay-connection.js";
import { createLogger } from "../../src/logger.js";
import { waitFor } from "../support/processes.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger("info", { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines, messages: (text: string) => lines.filter((line) => String(line.msg).includes(text)) };
}

function inspectionEvent(sequence: number, padding = ""): StatelyInspectionEvent {
  const event = { type: "@xstate.event", sessionId: "test", event: { type: "TICK", sequence, padding } };
  return event as unknown as StatelyInspectionEvent;
}

/** Returns a port on 127.0.0.1 that nothing listens on right now. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function openViewer(relay: InspectionRelay): Promise<{ socket: WebSocket; received: number[] }> {
  const socket = new WebSocket(relay.url);
  const received: number[] = [];
  socket.on("message", (data) => received.push(JSON.parse(data.toString()).event.sequence));
  cleanups.push(() => socket.terminate());
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve({ socket, received }));
    socket.once("error", reject);
  });
}

describe("relay connection without a relay", () => {
  it("keeps the newest messages up to the bound", async () => {
    const port = await closedPort();
    const logs = captureLogs();
    const connection = new RelayConnection({
      url: `ws://127.0.0.1:${port}`,
      logger: logs.logger,
      maxQueuedMessages: 3,
      reconnectDelayMs: 50,
    });
    cleanups.push(() => connection.stop());
    connection.start();

    for (let sequence = 1; sequence <= 10; sequence += 1) connection.send(inspectionEvent(sequence));

    expect(connection.queuedMessages).toBe(3);
    expect(logs.messages("dropped")).toHaveLength(1);
    await waitFor(
      () => (logs.messages("unreachable").length > 0 ? true : undefined),
      () => "the log line of the unreachable relay",
    );
    expect(logs.messages("unreachable")).toHaveLength(1);
  });

  it("sends what it kept once the relay starts", async () => {
    const port = await closedPort();
    const logs = captureLogs();
    const connection = new RelayConnection({
      url: `ws://127.0.0.1:${port}`,
      logger: logs.logger,
      maxQueuedMessages: 3,
      reconnectDelayMs: 50,
    });
    cleanups.push(() => connection.stop());
    connection.start();
    for (let sequence = 1; sequence <= 10; sequence += 1) connection.send(inspectionEvent(sequence));

    const relay = await startInspectionRelay({ port, logger: createLogger("silent") });
    cleanups.push(() => relay.close());
    const viewer = await openViewer(relay);

    await waitFor(
      () => (viewer.received.length >= 3 ? true : undefined),
      () => `three messages; received ${JSON.stringify(viewer.received)}`,
    );
    expect(viewer.received).toEqual([8, 9, 10]);
    expect(connection.queuedMessages).toBe(0);
    expect(logs.messages("caught up")).toHaveLength(1);
    expect(logs.messages("caught up")[0]?.dropped).toBe(7);
  });
});

describe("relay connection to a slow relay", () => {
  it("bounds the unsent bytes and the queue", async () => {
    // A relay that accepts the connection and then stops reading from it.
    const sockets: IncomingMessage["socket"][] = [];
    const slowRelay = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    slowRelay.on("connection", (_socket, request) => {
      request.socket.pause();
      sockets.push(request.socket);
    });
    await new Promise((resolve) => slowRelay.once("listening", resolve));
    cleanups.push(() => new Promise((resolve) => slowRelay.close(resolve)));
    const { port } = slowRelay.address() as { port: number };
    const logs = captureLogs();
    const maxBufferedBytes = 64 * 1024;
    const connection = new RelayConnection({
      url: `ws://127.0.0.1:${port}`,
      logger: logs.logger,
      maxQueuedMessages: 5,
      maxBufferedBytes,
    });
    cleanups.push(() => connection.stop());
    connection.start();
    await waitFor(
      () => (logs.messages("connected").length > 0 ? true : undefined),
      () => "the connection to the slow relay",
    );

    // 100 messages of 256 KiB are more than the kernel's socket buffers on loopback take.
    const padding = "x".repeat(256 * 1024);
    for (let sequence = 1; sequence <= 100; sequence += 1) connection.send(inspectionEvent(sequence, padding));

    expect(connection.queuedMessages).toBe(5);
    expect(connection.bufferedBytes).toBeLessThan(maxBufferedBytes + 2 * padding.length);
    expect(logs.messages("dropped")).toHaveLength(1);

    for (const socket of sockets) socket.resume();
    await waitFor(
      () => (connection.queuedMessages === 0 ? true : undefined),
      () => `an empty queue; ${connection.queuedMessages} messages still queued`,
    );
    expect(logs.messages("caught up")).toHaveLength(1);
  });
});
