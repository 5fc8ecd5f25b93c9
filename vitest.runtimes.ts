/**
 * Vitest config for the conformance suite under other runtimes (scripts/deno-conformance.sh):
 * the root config's aliases, only the given runtime's folder, one worker.
 */
import { defineConfig, mergeConfig } from "vitest/config";
import root from "./vitest.workspace.js";

const runtime = process.env.TL_RUNTIME ?? "deno";

export default mergeConfig({ resolve: root.resolve }, defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    include: [`packages/testkit/${runtime}/**/*.test.ts`],
    pool: "forks",
    maxWorkers: 1,
  },
}));
