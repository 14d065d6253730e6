/**
 * Times on the pages. The server writes them in UTC inside `<time datetime>` elements, and
 * the page script rewrites them in the reader's own time zone when it runs.
 */

export type TimeStyle = "time" | "date" | "datetime";

const FORMATS: Record<TimeStyle, Intl.DateTimeFormat> = {
  time: new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", hour: "2-digit", minute: "2-digit" }),
  date: new Intl.DateTimeFormat("en-GB", {
    timeZone: "UTC",
    day: "numeric",
    month: "short",
    year: "numeric",
  }),
  datetime: new Intl.DateTimeFormat("en-GB", {
    timeZone: "UTC",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  }),
};

/** Formats an ISO time in UTC, for example `09:15 UTC` or `5 Jan 2026, 09:15 UTC`. */
export function formatUtc(iso: string, style: TimeStyle): string {
  const text = FORMATS[style].format(new Date(iso));
  return style === "date" ? text : `${text} UTC`;
}

/** Names the browser and system of a user agent, for example `Chrome on Linux`. */
export function describeUserAgent(userAgent: string | null): string {
  if (!userAgent) return "Unknown browser";
  const browser =
    [
      ["Edg/", "Edge"],
      ["Firefox/", "Firefox"],
      ["HeadlessChrome/", "Headless Chrome"],
      ["Chrome/", "Chrome"],
      ["Safari/", "Safari"],
      ["curl/", "curl"],
    ].find(([marker]) => userAgent.includes(marker!))?.[1] ?? "Unknown browser";
  const system =
    [
      ["Android", "Android"],
      ["iPhone", "iOS"],
      ["iPad", "iPadOS"],
      ["Windows", "Windows"],
      ["Mac OS X", "macOS"],
      ["CrOS", "ChromeOS"],
      ["Linux", "Linux"],
    ].find(([marker]) => userAgent.includes(marker!))?.[1] ?? null;
  return system ? `${browser} on ${system}` : browser;
}

/** Returns `1 attempt` or `N attempts`. */
export function countAttempts(count: number): string {
  return count === 1 ? "1 attempt" : `${count} attempts`;
}
