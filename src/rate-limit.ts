/**
 * The per-client limit: requests that start sign-ins or registrations, counted per client
 * address in one-minute windows. The counters live in the database, so that every process
 * behind a load balancer counts against the same number.
 */
import { sql } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { rateLimitWindows } from "../db/schema.js";
import { ApiError } from "./http/errors.js";

const WINDOW_MS = 60_000;

export class ClientRateLimiter {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date,
    /** Requests per client and minute; 0 turns the limit off. */
    private readonly perMinute: number,
  ) {}

  /**
   * Counts one request of a client with a single upsert, and throws `rate_limited` with the
   * seconds until the window ends once the client is past the limit. Rejected requests count
   * too, so a client that keeps retrying stays limited until the window ends.
   */
  async check(client: string): Promise<void> {
    if (this.perMinute === 0) return;
    const now = this.now().getTime();
    const windowStart = now - (now % WINDOW_MS);
    const [row] = await this.db
      .insert(rateLimitWindows)
      .values({ client, windowStart: new Date(windowStart), requests: 1 })
      .onConflictDoUpdate({
        target: [rateLimitWindows.client, rateLimitWindows.windowStart],
        set: { requests: sql`${rateLimitWindows.requests} + 1` },
      })
      .returning({ requests: rateLimitWindows.requests });
    if ((row?.requests ?? 0) <= this.perMinute) return;

    const retryAfterSeconds = Math.max(1, Math.ceil((windowStart + WINDOW_MS - now) / 1000));
    throw new ApiError("rate_limited", { extra: { retryAfter: retryAfterSeconds }, retryAfterSeconds });
  }
}
