/** The heartbeat watch (watch.ts): lateness against the connection's own baseline, and bursts. */
import { describe, expect, it } from "vitest";
import { heartbeatWatch } from "../../src/watch.js";

const LATE_MS = 1_000;
const BURST_PAIRS = 2;

describe("the heartbeat watch", () => {
  it("accepts heartbeats that arrive on time, whatever the clock skew between client and server", () => {
    const skew = 123_456; // the server's clock is far behind: only changes in the offset count
    const w = heartbeatWatch(1_000, LATE_MS, BURST_PAIRS, 0, skew + 5);
    for (let i = 1; i <= 10; i++) expect(w(i * 1_000, skew + i * 1_000 + (i % 3) * 40)).toBeUndefined();
  });

  it("flags a heartbeat that arrives later than the baseline by more than lateMs", () => {
    const w = heartbeatWatch(1_000, LATE_MS, BURST_PAIRS, 0, 10);
    expect(w(1_000, 1_010)).toBeUndefined();
    const v = w(2_000, 3_200);
    expect(v).toContain("late");
  });

  it("flags heartbeats that arrive in bursts (held, then released together)", () => {
    const w = heartbeatWatch(1_000, 100_000, BURST_PAIRS, 0, 0);
    expect(w(1_000, 1_000)).toBeUndefined();
    expect(w(2_000, 1_005)).toBeUndefined(); // one close pair can be chance
    const v = w(3_000, 1_010);
    expect(v).toContain("burst");
  });

  it("does not count heartbeats sent close together as a burst", () => {
    const w = heartbeatWatch(1_000, LATE_MS, BURST_PAIRS, 0, 0);
    for (let i = 1; i <= 5; i++) expect(w(i * 10, i * 10)).toBeUndefined();
  });
});
