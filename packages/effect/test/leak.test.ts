/**
 * 1,000 scoped channels opened (each proven open and consumed) and closed leave nothing behind:
 * no timers, no sockets (Node's active resources return to the baseline), no background fibers
 * of the Effect client, no server connections.
 */
import { describe, expect, it } from "vitest";
import * as Effect from "effect/Effect";
import * as Stream from "effect/Stream";
import * as SubscriptionRef from "effect/SubscriptionRef";
import { ThroughlineClient, ThroughlineServer } from "@throughline/effect";
import { liveFibers } from "../src/internal/fibers.js";
import { httpServer, within } from "./helpers.js";

/** Active handles by type (Timeout, TCPSocketWrap, …), from Node's own accounting. */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

const CHANNELS = 1_000;
const BATCH = 25;

describe("leaks", () => {
  it(`${CHANNELS} scoped channels opened and closed leave no timers, sockets or fibers`, async () => {
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const { server, base } = yield* httpServer;
          // Short session TTL: a closed client's session (and its timer) must go away within the test.
          const rt = yield* ThroughlineServer.make({ attach: server, sessionTtlMs: 100, heartbeatMs: 1_000 });
          const url = `${base}/realtime`;
          const baseline = resources();
          let peakFibers = 0;
          let peakSockets = 0;
          const one = Effect.scoped(
            Effect.gen(function* () {
              const ch = yield* ThroughlineClient.connect(url, { topics: ["t"], transports: ["websocket"] });
              yield* Effect.forkScoped(Stream.runDrain(ch.messages));
              yield* Effect.forkScoped(Stream.runDrain(SubscriptionRef.changes(ch.transport)));
              yield* within(SubscriptionRef.changes(ch.state).pipe(Stream.filter((s) => s === ThroughlineClient.OPEN), Stream.runHead), "open");
              // The measures see what an open channel holds (so "back to the baseline" means something).
              peakFibers = Math.max(peakFibers, liveFibers());
              peakSockets = Math.max(peakSockets, resources().TCPSocketWrap ?? 0);
            }),
          );
          for (let i = 0; i < CHANNELS; i += BATCH) {
            yield* Effect.all(Array.from({ length: BATCH }, () => one), { concurrency: "unbounded" });
          }
          expect(liveFibers()).toBe(0);
          // Sockets close asynchronously on both sides: wait (bounded) for the counts to settle.
          const settled = yield* within(
            Effect.promise(async () => {
              for (;;) {
                const now = resources();
                const grown = Object.keys(now).filter((k) => (now[k] ?? 0) > (baseline[k] ?? 0));
                if (grown.length === 0 && rt.core.connectionCount === 0 && rt.core.sessionCount === 0) return now;
                await new Promise((r) => setTimeout(r, 50));
              }
            }),
            "resources back to the baseline",
            30_000,
          ).pipe(Effect.catch((e) => Effect.succeed({ error: String(e), now: resources(), baseline, connections: rt.core.connectionCount, sessions: rt.core.sessionCount })));
          expect(settled).not.toHaveProperty("error");
          expect(peakFibers).toBeGreaterThanOrEqual(1);
          expect(peakSockets).toBeGreaterThan(baseline.TCPSocketWrap ?? 0);
        }),
      ),
    );
  }, 240_000);
});
