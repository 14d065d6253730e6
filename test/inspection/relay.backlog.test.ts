/** The relay's backlog for late viewers stays bounded in bytes, whatever local clients send. */
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InspectionRelay, startInspectionRelay } from "../../src/inspection/relay.js";
import { createLogger } from "../../src/logger.js";

const LARGE_MESSAGE_BYTES = 900 * 1024;
const LARGE_MESSAGES = 5;

let relay: InspectionRelay;
const sockets: WebSocket[] = [];

function connect(): Promise<WebSocket> {
  const socket = new WebSocket(relay.url);
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  });
}

beforeAll(async () => {
  relay = await startInspectionRelay({ port: 0, logger: createLogger("silent") });
});
afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  await relay.close();
});

describe("inspection relay backlog", () => {
  it("keeps at most 2 MiB for late viewers", async () => {
    const sender = await connect();
    for (let index = 0; index < LARGE_MESSAGES; index += 1) {
      sender.send(JSON.stringify({ index, padding: "x".repeat(LARGE_MESSAGE_BYTES) }));
    }
    // The relay handles one sender's messages in order, so once a first viewer has seen the
    // marker, every large message is in the backlog.
    const first = await connect();
    const markerSeen = new Promise<void>((resolve) =>
      first.on("message", (data) => {
        if (JSON.parse(data.toString()).marker) resolve();
      }),
    );
    sender.send(JSON.stringify({ marker: true }));
    await markerSeen;

    const late = await connect();
    const received: { index?: number; marker?: boolean }[] = [];
    await new Promise<void>((resolve) =>
      late.on("message", (data) => {
        const message = JSON.parse(data.toString());
        received.push(message);
        if (message.marker) resolve();
      }),
    );

    const replayedBytes = received.reduce((total, message) => total + JSON.stringify(message).length, 0);
    expect(replayedBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(received.filter((message) => message.index !== undefined).map((message) => message.index)).toEqual([3, 4]);
    expect(received.at(-1)?.marker).toBe(true);
  });
});
