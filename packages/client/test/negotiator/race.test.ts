/**
 * Staggered racing (negotiate.ts) with fake candidates on a manual clock: when each transport
 * starts, who wins, what is cancelled, and which failures end the race.
 */
import { describe, expect, it } from "vitest";
import type { TransportName } from "@throughline/wire";
import { race, type RaceResult } from "../../src/negotiate.js";
import type { Candidate, ProofResult } from "../../src/probe.js";
import { ManualClock, flush } from "./manual-clock.js";

interface Fake extends Candidate {
  startedAt: number;
  cancelled: boolean;
  settle(r: ProofResult): void;
}

function setup(order: TransportName[], staggerMs = 500) {
  const clock = new ManualClock();
  const started = new Map<TransportName, Fake>();
  const open = (name: TransportName): Candidate => {
    let settle!: (r: ProofResult) => void;
    const result = new Promise<ProofResult>((r) => (settle = r));
    const fake: Fake = {
      name,
      link: { open() {}, send: async () => {}, close() {} },
      result,
      startedAt: clock.now(),
      cancelled: false,
      settle: (r) => settle(r),
      cancel() {
        fake.cancelled = true;
        settle({ ok: false, outcome: "cancelled", info: { code: 1006, reason: "cancelled" } });
      },
      _adopt: () => {},
    };
    started.set(name, fake);
    return fake;
  };
  const r = race(order, open, staggerMs, clock);
  let outcome: RaceResult | undefined;
  void r.result.then((x) => (outcome = x));
  return { clock, started, race: r, outcome: () => outcome };
}

const hello = { type: "hello", session: "s", transport: "sse", heartbeatMs: 1000, time: 0, cursor: "e-0", retryMs: 0 } as const;
const proven: ProofResult = { ok: true, hello };
const blocked: ProofResult = { ok: false, outcome: "blocked", info: { code: 1006, reason: "blocked" } };

describe("staggered racing", () => {
  it("starts only the first transport until the stagger delay passes, then the next in parallel", async () => {
    const t = setup(["sse", "websocket", "long-poll"]);
    await flush();
    expect([...t.started.keys()]).toEqual(["sse"]);
    await t.clock.advance(499);
    expect([...t.started.keys()]).toEqual(["sse"]);
    await t.clock.advance(1);
    expect([...t.started.keys()]).toEqual(["sse", "websocket"]);
    expect(t.started.get("websocket")!.startedAt).toBe(500);
    await t.clock.advance(500);
    expect(t.started.get("long-poll")!.startedAt).toBe(1000);
  });

  it("lets the first proven win and cancels the others", async () => {
    const t = setup(["sse", "websocket", "long-poll"]);
    await flush();
    await t.clock.advance(1000);
    t.started.get("websocket")!.settle(proven);
    await flush();
    expect(t.outcome()).toMatchObject({ kind: "won", _candidate: { name: "websocket" } });
    expect(t.started.get("sse")!.cancelled).toBe(true);
    expect(t.started.get("long-poll")!.cancelled).toBe(true);
    expect(t.started.get("websocket")!.cancelled).toBe(false);
  });

  it("starts the next transport at once when one fails, without waiting for the stagger", async () => {
    const t = setup(["sse", "websocket", "long-poll"]);
    await flush();
    t.started.get("sse")!.settle(blocked);
    await flush();
    expect([...t.started.keys()]).toEqual(["sse", "websocket"]);
    expect(t.started.get("websocket")!.startedAt).toBe(0);
  });

  it("fails with every failure once all transports failed", async () => {
    const t = setup(["sse", "long-poll"]);
    await flush();
    t.started.get("sse")!.settle(blocked);
    await flush();
    t.started.get("long-poll")!.settle({ ok: false, outcome: "timeout", info: { code: 1006, reason: "timeout" } });
    await flush();
    expect(t.outcome()).toMatchObject({ kind: "failed", failures: [{ outcome: "blocked" }, { outcome: "timeout" }] });
    expect(t.clock.pending).toBe(0);
  });

  it("stops at a rejection by the application: no other transport is tried", async () => {
    const t = setup(["sse", "websocket", "long-poll"]);
    await flush();
    t.started.get("sse")!.settle({ ok: false, outcome: "rejected", info: { code: 4401, reason: "TL_UNAUTHORIZED", fatal: true } });
    await flush();
    await t.clock.advance(5_000);
    expect(t.outcome()).toMatchObject({ kind: "rejected", info: { code: 4401 } });
    expect([...t.started.keys()]).toEqual(["sse"]);
  });

  it("asks for a new session when the server does not know the session", async () => {
    const t = setup(["sse", "websocket"]);
    await flush();
    t.started.get("sse")!.settle({ ok: false, outcome: "blocked", info: { code: 4404, reason: "TL_UNKNOWN_SESSION" } });
    await flush();
    expect(t.outcome()).toEqual({ kind: "new-session" });
  });

  it("cancels every candidate and its stagger timer when cancelled from outside", async () => {
    const t = setup(["sse", "websocket"]);
    await flush();
    t.race.cancel();
    await flush();
    expect(t.outcome()).toEqual({ kind: "cancelled" });
    expect(t.started.get("sse")!.cancelled).toBe(true);
    expect(t.clock.pending).toBe(0);
  });
});
