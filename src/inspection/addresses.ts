/** The address that the inspection relay listens on: 127.0.0.1, never another interface. */
export const RELAY_HOST = "127.0.0.1";

/** Returns the relay's WebSocket address and the address of its page, for a port. */
export function relayAddresses(port: number): { url: string; pageUrl: string } {
  return { url: `ws://${RELAY_HOST}:${port}`, pageUrl: `http://${RELAY_HOST}:${port}/` };
}
