/**
 * The conformance suite's guarantees re-checked through the Effect API: per-topic order,
 * exactly once, resume across transport switches (forced, and a proxy cutting connections while
 * the Schedule reconnects), nothing lost.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as Effect from "effect/Effect";
import * as Fiber from "effect/Fiber";
import * as Schedule from "effect/Schedule";
import * as Stream from "effect/Stream";
import * as SubscriptionRef from "effect/SubscriptionRef";
import { startHostileProxy } from "@throughline/testkit";
import type { Message, TransportName } from "@throughline/wire";
import { ThroughlineClient, ThroughlineServer } from "@throughline/effect";
import { httpServer, within } from "./helpers.js";

type Op = { readonly publish: number; readonly topic: "a" | "b" } | { readonly switchTo: TransportName };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ publish: fc.integer({ min: 1, max: 5 }), topic: fc.constantFrom("a" as const, "b" as const) }),
  fc.record({ switchTo: fc.constantFrom<TransportName>("sse", "websocket", "long-poll") }),
);

/** Exactly the published data, each once, in publish order per topic. */
function checkDelivery(got: readonly Message[], published: ReadonlyArray<{ topic: string; n: number }>): void {
  for (const topic of ["a", "b"]) {
    expect(got.filter((m) => m.topic === topic).map((m) => m.data)).toEqual(published.filter((p) => p.topic === topic).map((p) => p.n));
  }
  expect(new Set(got.map((m) => m.id)).size).toBe(got.length);
}

describe("conformance through the Effect API", () => {
  it("any sequence of publishes and transport switches delivers every message once, in order", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 8 }), async (ops) => {
        await Effect.runPromise(
          Effect.scoped(
            Effect.gen(function* () {
              const { server, base } = yield* httpServer;
              const rt = yield* ThroughlineServer.make({ attach: server, heartbeatMs: 1_000, longPollHoldMs: 1_000, retryMs: 50 });
              const total = ops.reduce((n, op) => n + ("publish" in op ? op.publish : 0), 0);
              const ch = yield* ThroughlineClient.connect(`${base}/realtime`, { topics: ["a", "b"], transports: ["websocket", "sse", "long-poll"] });
              const collected = yield* Effect.forkChild(Stream.runCollect(Stream.take(ch.messages, total)));
              yield* within(SubscriptionRef.changes(ch.state).pipe(Stream.filter((s) => s === ThroughlineClient.OPEN), Stream.runHead), "open");
              const published: Array<{ topic: string; n: number }> = [];
              let n = 0;
              for (const op of ops) {
                if ("publish" in op) {
                  for (let i = 0; i < op.publish; i++, n++) {
                    yield* rt.publish(op.topic, n);
                    published.push({ topic: op.topic, n });
                  }
                } else {
                  yield* within(ch.switchTransport(op.switchTo), `switch to ${op.switchTo}`);
                  expect(yield* SubscriptionRef.get(ch.transport)).toBe(op.switchTo);
                }
              }
              const got = total === 0 ? [] : yield* within(Fiber.join(collected), `${total} messages`);
              checkDelivery(got, published);
            }),
          ),
        );
      }),
      { numRuns: 6 },
    );
  });

  it("a proxy cutting every connection: the Schedule reconnects, resuming from the cursor, 0 lost, in order", async () => {
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const { server, port } = yield* httpServer;
          const rt = yield* ThroughlineServer.make({ attach: server, heartbeatMs: 1_000, longPollHoldMs: 1_000, retryMs: 50 });
          const proxy = yield* Effect.acquireRelease(
            Effect.promise(() => startHostileProxy(`http://127.0.0.1:${port}`, { kind: "cut-after", ms: 400 })),
            (p) => Effect.promise(() => p.close()),
          );
          const total = 30;
          const ch = yield* ThroughlineClient.connect(`${proxy.url}/realtime`, {
            topics: ["a", "b"],
            transports: ["websocket"],
            reconnect: Schedule.spaced("50 millis"),
          });
          const collected = yield* Effect.forkChild(Stream.runCollect(Stream.take(ch.messages, total)));
          const errors = yield* Effect.forkChild(Stream.runCollect(Stream.take(ch.errors, 2)));
          yield* within(SubscriptionRef.changes(ch.state).pipe(Stream.filter((s) => s === ThroughlineClient.OPEN), Stream.runHead), "open");
          const published: Array<{ topic: string; n: number }> = [];
          for (let n = 0; n < total; n++) {
            const topic = n % 3 === 0 ? "b" : "a";
            yield* rt.publish(topic, n);
            published.push({ topic, n });
            yield* Effect.sleep("50 millis");
          }
          checkDelivery(yield* within(Fiber.join(collected), `${total} messages`, 30_000), published);
          // The cuts really happened, and surfaced as lost connections the schedule retried.
          const lost = yield* within(Fiber.join(errors), "two lost connections");
          expect(lost.every((e) => e._tag === "ConnectionLostError")).toBe(true);
          expect(proxy.stats.cuts).toBeGreaterThanOrEqual(2);
          expect(yield* ch.closed.pipe(Effect.timeoutOption("1 millis"))).toMatchObject({ _tag: "None" });
        }),
      ),
    );
  });
});
