/**
 * Root test config. Vitest ≥4 no longer picks up `vitest.workspace.ts` on its own, so the npm
 * scripts pass it with `--config`; each package is one project that inherits this file
 * (`extends: true`), so the aliases below let tests run against sources without a build.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}`, import.meta.url));

const packages = ["wire", "server", "client", "testkit", "doctor", "effect", "redis"] as const;

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@throughline\/client\/(node|internal|report|core)$/, replacement: src("client/src/$1.ts") },
      { find: /^@throughline\/server\/metrics$/, replacement: src("server/src/metrics.ts") },
      { find: /^@throughline\/doctor\/(node|page)$/, replacement: src("doctor/src/$1.ts") },
      { find: /^@throughline\/effect\/client\/node$/, replacement: src("effect/src/client-node.ts") },
      { find: /^@throughline\/effect\/(client|server)$/, replacement: src("effect/src/$1.ts") },
      { find: /^@throughline\/client\/node$/, replacement: src("client/src/node.ts") },
      { find: /^@throughline\/client\/(eventsource|share)$/, replacement: src("client/src/$1/index.ts") },
      { find: /^@throughline\/testkit\/(conformance|chromium|redis)$/, replacement: src("testkit/src/$1.ts") },
      { find: /^@throughline\/(wire|server|client|testkit|doctor|effect|redis)$/, replacement: src("$1/src/index.ts") },
    ],
  },
  test: {
    // Real sockets on a noisy 2-core machine: generous bounds, never tight timings.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
    reporters: ["default"],
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: { name, include: [`packages/${name}/test/**/*.test.ts`] },
      })),
      // The benchmark harness's own tests (option parsing, pinning, tables, a tiny cluster run on the built dist).
      { extends: true as const, test: { name: "benchmarks", include: ["benchmarks/test/**/*.test.mjs"] } },
    ],
  },
});
