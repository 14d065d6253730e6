/**
 * Entry point of `npm start`: reads the environment, serves the API, stops on SIGTERM.
 * `npm run inspect` passes `--inspect`, which also starts the inspection relay in this process
 * and reports to it (`INSPECT` defaults to `1` then).
 */
import { type Config, loadConfig } from "./config.js";
import type { InspectionRelay } from "./inspection/relay.js";
import { createLogger } from "./logger.js";
import { startService } from "./server.js";

const withRelay = process.argv.includes("--inspect");

let config: Config;
try {
  config = loadConfig(withRelay ? { INSPECT: "1", ...process.env } : process.env);
  if (withRelay && config.inspectRelayPort === null) {
    throw new Error(
      "npm run inspect needs live inspection on, but INSPECT turns it off. Unset INSPECT or set it to a port.",
    );
  }
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
const logger = createLogger(config.logLevel);

try {
  let relay: InspectionRelay | null = null;
  if (withRelay && config.inspectRelayPort !== null) {
    const { startInspectionRelay } = await import("./inspection/relay.js");
    relay = await startInspectionRelay({ port: config.inspectRelayPort, logger });
  }
  const service = await startService(config, logger);
  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    // Ctrl-C under `npm start` delivers SIGINT twice: once from the terminal and once
    // forwarded by npm. A second signal must not end the process before the drain is done.
    process.on(signal, () => {
      if (stopping) {
        logger.info({ signal }, "signal received while stopping; still draining");
        return;
      }
      stopping = true;
      logger.info({ signal }, "signal received");
      service
        .stop()
        .then(() => relay?.close())
        .then(
          () => process.exit(0),
          (error) => {
            logger.error({ err: error }, "shutdown failed");
            process.exit(1);
          },
        );
    });
  }
} catch (error) {
  logger.fatal({ err: error }, "start-up failed");
  process.exit(1);
}
