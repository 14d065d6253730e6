/**
 * The replay page's script, bundled with `@statelyai/inspect` by esbuild on the first request
 * and kept in memory. The package ships ES modules that import other packages by name, which
 * a browser cannot load without a bundle, and the page loads no script from another site.
 */
import { fileURLToPath } from "node:url";

let bundle: Promise<string> | null = null;

/** Returns the bundled script; a failed build is tried again on the next call. */
export function bundleReplayScript(): Promise<string> {
  bundle ??= buildReplayScript();
  bundle.catch(() => {
    bundle = null;
  });
  return bundle;
}

async function buildReplayScript(): Promise<string> {
  // esbuild loads only here, so a service that never serves the page never starts it.
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [fileURLToPath(new URL("./assets/inspect-replay.js", import.meta.url))],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2020",
    minify: true,
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}
