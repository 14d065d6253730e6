/**
 * The WebSocket to the inspection relay, as an adapter of `@statelyai/inspect`'s
 * `createInspector`. It replaces the library's `WebSocketAdapter`, which reconnects only after
 * an error (not after the relay closes the connection), drops events without a word, and lets
 * the socket's send buffer grow without a bound while a connected relay reads slowly.
 *
 * Here every message waits in a queue of at most `maxQueuedMessages`, and leaves it only while
 * the socket is open and holds less than `maxBufferedBytes` unsent. When the queue is full the
 * oldest message is dropped, so the inspector still gets the latest states. The first drop of
 * a run is logged, and so is the count once the queue has emptied again.
 */
import type { StatelyInspectionEvent } from "@statelyai/inspect";
import { WebSocket } from "ws";
import type { Logger } from "../logger.js";

export interface RelayConnectionOptions {
  /** The relay's address, such as `ws://127.0.0.1:8080`. */
  url: string;
  logger: Logger;
  maxQueuedMessages?: number;
  maxBufferedBytes?: number;
  reconnectDelayMs?: number;
}

const DEFAULT_MAX_QUEUED_MESSAGES = 1_000;
const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;
const DEFAULT_RECONNECT_DELAY_MS = 2_000;
const HANDSHAKE_TIMEOUT_MS = 5_000;

export class RelayConnection {
  private socket: WebSocket | null = null;
  private readonly queue: string[] = [];
  private reconnectTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private unreachableLogged = false;
  /** Messages dropped since the queue was last empty. */
  private dropped = 0;
  private readonly maxQueuedMessages: number;
  private readonly maxBufferedBytes: number;
  private readonly reconnectDelayMs: number;

  constructor(private readonly options: RelayConnectionOptions) {
    this.maxQueuedMessages = options.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.reconnectDelayMs = options.reconnectDelayMs ?? DEFAULT_RECONNECT_DELAY_MS;
  }

  /** Messages waiting for the relay, for tests and diagnostics. */
  get queuedMessages(): number {
    return this.queue.length;
  }

  /** Bytes handed to the socket but not yet written out, for tests and diagnostics. */
  get bufferedBytes(): number {
    return this.socket?.bufferedAmount ?? 0;
  }

  start(): void {
    this.stopped = false;
    if (!this.socket && !this.reconnectTimer) this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.socket?.terminate();
    this.socket = null;
  }

  send(event: StatelyInspectionEvent): void {
    this.queue.push(JSON.stringify(event));
    if (this.queue.length > this.maxQueuedMessages) {
      this.queue.shift();
      this.countDrop();
    }
    this.flush();
  }

  private connect(): void {
    const { url, logger } = this.options;
    const socket = new WebSocket(url, { handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
    this.socket = socket;
    socket.on("open", () => {
      logger.info({ relay: url }, "connected to the inspection relay");
      this.unreachableLogged = false;
      this.flush();
    });
    // The relay also forwards what other clients send; this process only reports.
    socket.on("message", () => {});
    socket.on("error", (error) => {
      if (this.unreachableLogged) return;
      this.unreachableLogged = true;
      logger.warn(
        { relay: url, err: error, retryDelayMs: this.reconnectDelayMs },
        "inspection relay unreachable; retrying until it answers, without logging each retry",
      );
    });
    socket.on("close", () => {
      if (this.socket === socket) this.socket = null;
      if (this.stopped) return;
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        if (!this.stopped) this.connect();
      }, this.reconnectDelayMs);
      this.reconnectTimer.unref();
    });
  }

  /** Sends queued messages while the socket is open and its unsent bytes stay under the bound. */
  private flush(): void {
    const socket = this.socket;
    while (
      socket &&
      socket.readyState === WebSocket.OPEN &&
      this.queue.length > 0 &&
      socket.bufferedAmount < this.maxBufferedBytes
    ) {
      // The callback runs once the message is written out, which makes room for more.
      socket.send(this.queue.shift()!, (error) => {
        if (!error) this.flush();
      });
    }
    if (this.queue.length === 0 && this.dropped > 0) {
      const { url, logger } = this.options;
      logger.info({ relay: url, dropped: this.dropped }, "inspection relay caught up after dropped messages");
      this.dropped = 0;
    }
  }

  private countDrop(): void {
    this.dropped += 1;
    if (this.dropped > 1) return;
    this.options.logger.warn(
      { relay: this.options.url, maxQueuedMessages: this.maxQueuedMessages },
      "inspection messages dropped because the relay is unreachable or slow; the oldest go first",
    );
  }
}
