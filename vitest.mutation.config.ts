/**
 * The fast tests only, for mutation testing: pure tests that need no database, network or
 * child process, so that Stryker can run them again for every mutant. `npm test` still runs
 * these files too, through `vitest.config.ts`.
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/machines/**/*.test.ts", "test/unit/**/*.test.ts"],
    chaiConfig: { truncateThreshold: 2_000 },
  },
});
