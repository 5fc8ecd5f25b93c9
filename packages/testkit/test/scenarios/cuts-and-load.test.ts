/**
 * Issue #10 over real loopback sockets: no gap at fixed-duration cuts (resume at once, then
 * learn the cut and rotate make-before-break), climb back within the stated bound, and a
 * long-poll client under load never refused with 429 by its own server.
 */
import { describe, expect, it } from "vitest";
import { runClimbScenario, runCutScenario, runLongPollLoad } from "../../src/scenarios.js";

/** The target: the largest gap between consecutive 100 ms messages. */
const MAX_GAP_MS = 300;

describe("a proxy that cuts every response after a fixed time", () => {
  for (const cutMs of [1_500, 5_000]) {
    it(`delivers 100 ms messages with no gap above ${MAX_GAP_MS} ms, none lost or duplicated, cut at ${cutMs} ms`, async () => {
      const r = await runCutScenario({ cutMs, intervalMs: 100 });
      const context = JSON.stringify(r.attempts.map((a) => `${a.transport}:${a.purpose}:${a.outcome}:${a.reason}`));
      expect({ lost: r.lost, duplicates: r.duplicates, outOfOrder: r.outOfOrder }, context).toEqual({ lost: 0, duplicates: 0, outOfOrder: 0 });
      expect(r.maxGapMs, context).toBeLessThanOrEqual(MAX_GAP_MS);
      // After two cuts of the same age the client rotates before the proxy cuts.
      expect(r.rotations, context).toBeGreaterThan(0);
      expect(r.transport).toBe("sse");
    }, 60_000);
  }
});

describe("climbing back after a transient disturbance", () => {
  it("is back on SSE within the stated bound, nothing lost or duplicated", async () => {
    const r = await runClimbScenario(3_000);
    expect(r.transports[0]).toBe("sse");
    expect(r.transports.length).toBeGreaterThan(1);
    expect(r.climbMs).not.toBeNull();
    expect(r.climbMs!).toBeLessThanOrEqual(r.boundMs);
    expect({ lost: r.lost, duplicates: r.duplicates, outOfOrder: r.outOfOrder }).toEqual({ lost: 0, duplicates: 0, outOfOrder: 0 });
  }, 60_000);
});

describe("long-poll under load with the server's default limits", () => {
  for (const rate of [500, 5_000]) {
    it(`is never refused with 429 at ${rate} msg/s, and loses nothing`, async () => {
      const r = await runLongPollLoad(rate, 3);
      expect(r.published).toBeGreaterThan(rate);
      expect({ rateLimited: r.rateLimited, lost: r.lost, duplicates: r.duplicates, outOfOrder: r.outOfOrder }).toEqual({ rateLimited: 0, lost: 0, duplicates: 0, outOfOrder: 0 });
    }, 60_000);
  }
});
