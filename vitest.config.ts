import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Failing assertions print whole response bodies.
    chaiConfig: { truncateThreshold: 2_000 },
  },
});
