/** Starts and stops the whole service: database, migrations, mail dispatcher and HTTP server. */
import type { Server } from "node:http";
import { type ServerType, serve } from "@hono/node-server";
import { type DatabaseHandle, migrate, openDatabase } from "../db/client.js";
import type { Config } from "./config.js";
import { createApp } from "./http/app.js";
import { relayAddresses } from "./inspection/addresses.js";
import type { Logger } from "./logger.js";
import { type ServiceOverrides, type Services, createServices } from "./services.js";

/** How long in-flight requests may run after a stop before their connections are closed. */
const DRAIN_TIMEOUT_MS = 10_000;
const IDLE_SWEEP_MS = 100;

export interface RunningService {
  services: Services;
  url: string;
  /** Stops accepting requests, lets in-flight ones finish, then closes the database. */
  stop(): Promise<void>;
}

/** Opens and migrates the database, then serves the API. */
export async function startService(
  config: Config,
  logger: Logger,
  overrides: ServiceOverrides & { database?: DatabaseHandle } = {},
): Promise<RunningService> {
  const database = overrides.database ?? openDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    prepare: config.databasePrepare,
  });
  const applied = await migrate(database.db);
  logger.info({ database: database.driver, location: database.location, migrationsApplied: applied }, "database ready");

  const services = await createServices(config, database.db, logger, overrides);
  if (services.transport.name === "development") {
    logger.warn("RESEND_API_KEY is not set: mail goes to the development mailbox at GET /v1/dev/mailbox.");
  }
  logger.info({ transport: services.transport.name, from: config.mailFrom }, "mail transport ready");
  services.dispatcher.start();
  void services.dispatcher.kick();
  services.retention.start();

  const app = createApp(services);
  const server = await new Promise<ServerType>((resolve) => {
    const started = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(started));
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = `http://${config.host}:${port}`;
  logger.info({ url, production: config.production }, "listening");
  if (config.inspectRelayPort !== null) logInspection(config.inspectRelayPort, logger);

  let stopping: Promise<void> | null = null;
  return {
    services,
    url,
    stop() {
      stopping ??= (async () => {
        logger.info("stopping");
        await drain(server as Server, logger);
        await services.dispatcher.stop();
        await services.retention.stop();
        services.inspection?.close();
        await database.close();
        logger.info("stopped");
      })();
      return stopping;
    },
  };
}

/** Logs the page to open to watch flows live: the relay's page, which embeds the Stately inspector. */
function logInspection(port: number, logger: Logger): void {
  const { url, pageUrl } = relayAddresses(port);
  logger.info(
    { relay: url, open: pageUrl },
    `live inspection on: open ${pageUrl} in a browser to watch flows in the Stately inspector`,
  );
}

/**
 * Stops accepting connections and waits for the requests in flight. `close()` alone also
 * waits for kept-alive connections, which a client may keep using, so connections are closed
 * as soon as they are idle, and all of them after `DRAIN_TIMEOUT_MS`.
 */
async function drain(server: Server, logger: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  const deadline = setTimeout(() => {
    logger.warn({ drainTimeoutMs: DRAIN_TIMEOUT_MS }, "requests still running at the drain timeout; closing their connections");
    server.closeAllConnections();
  }, DRAIN_TIMEOUT_MS);
  server.closeIdleConnections();
  try {
    await closed;
  } finally {
    clearInterval(sweep);
    clearTimeout(deadline);
  }
}
