// The fields of a latency row measured in rounds (lib/rate-run.mjs): pure arithmetic, no processes.
import { describe, expect, it } from "vitest";
import { rateFields, roundsFields } from "../lib/rate-run.mjs";

const run = (p50, p99, max, delivered, cpuUs, extra = {}) => ({
  open: 10,
  published: delivered / 10,
  delivered,
  lost: 0,
  drained: true,
  latency: { p50, p99, max, mean: p50 },
  cpuUs,
  ...extra,
});

describe("roundsFields", () => {
  it("is rateFields for one round, with that round listed", () => {
    const r = run(5, 20, 30, 1000, 2000);
    expect(roundsFields([r])).toEqual({ ...rateFields(r), rounds: [{ p50: 5, p99: 20, max: 30 }] });
  });

  it("takes the median p50 and p99, the largest max, and sums counts and CPU over the rounds", () => {
    const f = roundsFields([run(5, 40, 50, 1000, 1000), run(7, 20, 90, 1000, 2000, { lost: 3, drained: false }), run(6, 30, 35, 1000, 3000)]);
    expect(f).toMatchObject({ p50: 6, p99: 30, max: 90, published: 300, delivered: 3000, lost: 3, drained: false, cpuUsPerDelivery: 2 });
    expect(f.rounds.map((x) => x.p99)).toEqual([40, 20, 30]);
  });

  it("averages the middle two of an even number of rounds", () => {
    expect(roundsFields([run(1, 10, 1, 10, 1), run(1, 30, 1, 10, 1)]).p99).toBe(20);
  });
});
