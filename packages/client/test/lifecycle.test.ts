/**
 * The lifecycle state machine (lifecycle.ts), model-tested: fast-check drives random event
 * sequences through the reducer and checks each transition against a simple model of the
 * reconnect rules of issue #10 (resume a healthy cut at once; back off, with jitter, only for
 * consecutive failures; closed is final; offline waits have no timer).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CLOSED, CONNECTING, OPEN } from "../src/api.js";
import { ARM_WAIT, FINISH, HEALTHY_MS, INITIAL, NONE, START_ROUND, WAITING, transition, type LifecycleEvent, type LifecycleState } from "../src/lifecycle.js";

/** The backoff policy of these tests: bounds 250 ms and 30 s, and the given random source. */
const policy = (random: () => number) => [250, 30_000, random] as const;

const event: fc.Arbitrary<LifecycleEvent> = fc.oneof(
  fc.constant({ type: "opened" } as const),
  fc.record({ type: fc.constant("lost" as const), openMs: fc.integer({ min: 0, max: 10_000 }), serverClose: fc.boolean() }),
  fc.constant({ type: "round-failed" } as const),
  fc.constant({ type: "wake" } as const),
  fc.constant({ type: "online" } as const),
  fc.constant({ type: "offline" } as const),
  fc.constant({ type: "close" } as const),
);

describe("the connection lifecycle", () => {
  it("follows the model over any sequence of events", () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), fc.double({ min: 0, max: 0.999, noNaN: true }), (events, r) => {
        let s: LifecycleState = INITIAL;
        for (const e of events) {
          const [n, effect] = transition(s, e, ...policy(() => r));
          if (s.phase === CLOSED) {
            // Closed is final and does nothing.
            expect([n, effect]).toEqual([s, NONE]);
            continue;
          }
          if (e.type === "close") expect([n.phase, effect]).toEqual([CLOSED, FINISH]);
          // A wait always has a timer unless offline; offline waits for `online` only.
          if (n.phase === WAITING) expect(n.waitMs === undefined).toBe(n.offline);
          if (n.waitMs !== undefined) {
            // Full jitter: within [0, min(max, base·2^failures)) of the failures before this one.
            expect(n.waitMs).toBeGreaterThanOrEqual(0);
            expect(n.waitMs).toBeLessThan(Math.max(1, Math.min(30_000, 250 * 2 ** Math.min(s.failures, 31))));
          }
          if (s.phase === OPEN && e.type === "lost") {
            const healthyCut = !s.offline && !e.serverClose && e.openMs >= HEALTHY_MS;
            // A healthy link that was cut is resumed at once, with no backoff.
            expect(effect).toBe(healthyCut ? START_ROUND : ARM_WAIT);
            expect(n.phase).toBe(healthyCut ? CONNECTING : WAITING);
            if (healthyCut) expect(n.failures).toBe(0);
          }
          if (s.phase === CONNECTING && e.type === "round-failed") {
            // Consecutive failures grow the backoff exponent.
            expect(n.failures).toBe(s.failures + 1);
            expect(effect).toBe(ARM_WAIT);
          }
          if (s.phase === CONNECTING && e.type === "opened") expect(n).toMatchObject({ phase: OPEN, failures: 0 });
          if (s.phase === WAITING && (e.type === "wake" || e.type === "online")) expect([n.phase, effect]).toEqual([CONNECTING, START_ROUND]);
          if (e.type === "online" && s.phase === WAITING) expect(n.failures).toBe(0);
          // Only the listed effects start work: nothing else ever starts a round.
          if (effect === START_ROUND) expect(n.phase).toBe(CONNECTING);
          s = n;
        }
      }),
      { numRuns: 500 },
    );
  });

  it("spreads a crowd that lost the same server: a server close always backs off, with jitter", () => {
    const open: LifecycleState = { phase: OPEN, failures: 0, offline: false };
    const delays = [0.1, 0.5, 0.9].map((r) => transition(open, { type: "lost", openMs: 60_000, serverClose: true }, ...policy(() => r))[0].waitMs);
    expect(delays).toEqual([25, 125, 225]);
  });

  it("backs off a link that flaps (cut before it was healthy)", () => {
    const open: LifecycleState = { phase: OPEN, failures: 0, offline: false };
    const [n, effect] = transition(open, { type: "lost", openMs: HEALTHY_MS - 1, serverClose: false }, ...policy(() => 0.5));
    expect([n.phase, n.failures, effect]).toEqual([WAITING, 1, ARM_WAIT]);
  });
});
