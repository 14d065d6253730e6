/** Entry point of `npm start`: reads the environment, serves the API, stops on SIGTERM. */
import { loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { startService } from "./server.js";

let config;
try {
  config = loadConfig();
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
const logger = createLogger(config.logLevel);

try {
  const service = await startService(config, logger);
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      logger.info({ signal }, "signal received");
      service.stop().then(
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
