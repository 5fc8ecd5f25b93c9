/**
 * The multi-node soak's verdict (scripts/soak-cluster-analyse.mjs): what counts as lost,
 * duplicated, out of order, and when a gap is at the exact point where the history ended.
 */
import { describe, expect, it } from "vitest";
import { analyseClient, percentile, type SoakEvent } from "../../../scripts/soak-cluster-analyse.mjs";

/** Confirmed publishes of topic "a": n → id (`<epoch>-<seq>`). */
const confirmedOf = (ids: Record<number, string>) => new Map([["a", new Map(Object.entries(ids).map(([n, id]) => [Number(n), id]))]]);
const msg = (n: number, id: string): SoakEvent => ({ kind: "msg", topic: "a", n, id });
const gap: SoakEvent = { kind: "gap", topic: "*", reason: "epoch" };
const attempts = (count: number) => new Map([["a", count]]);

describe("analyseClient", () => {
  const three = confirmedOf({ 0: "e-1", 1: "e-2", 2: "e-3" });

  it("counts a clean run as nothing lost, duplicated or reordered", () => {
    const r = analyseClient([msg(0, "e-1"), msg(1, "e-2"), msg(2, "e-3")], three, attempts(3));
    expect(r).toMatchObject({ delivered: 3, unique: 3, lost: 0, duplicated: 0, outOfOrder: 0, gapEvents: 0, gaps: [] });
  });

  it("counts a confirmed message that never arrived as lost, including at the end", () => {
    expect(analyseClient([msg(0, "e-1"), msg(2, "e-3")], three, attempts(3))).toMatchObject({ lost: 1, lostSamples: [{ topic: "a", from: 1, to: 1, count: 1 }] });
    expect(analyseClient([msg(0, "e-1"), msg(1, "e-2")], three, attempts(3))).toMatchObject({ lost: 1 });
  });

  it("does not count a publish that got no answer as lost, and notes it when it arrives", () => {
    const confirmed = confirmedOf({ 0: "e-1", 2: "e-3" }); // n=1: the node died before answering
    expect(analyseClient([msg(0, "e-1"), msg(2, "e-3")], confirmed, attempts(3))).toMatchObject({ lost: 0, unconfirmedDelivered: 0 });
    expect(analyseClient([msg(0, "e-1"), msg(1, "e-2"), msg(2, "e-3")], confirmed, attempts(3))).toMatchObject({ lost: 0, unconfirmedDelivered: 1 });
  });

  it("counts duplicates and reordering", () => {
    const r = analyseClient([msg(0, "e-1"), msg(2, "e-3"), msg(1, "e-2"), msg(2, "e-3")], three, attempts(3));
    expect(r).toMatchObject({ duplicated: 1, outOfOrder: 1 });
  });

  it("a gap where the history ended (the skipped messages are of the old epoch) is exact", () => {
    const confirmed = confirmedOf({ 0: "old-1", 1: "old-2", 2: "new-1" });
    const r = analyseClient([msg(0, "old-1"), gap, msg(2, "new-1")], confirmed, attempts(3));
    expect(r).toMatchObject({ lost: 0, gapCovered: 1, gaps: [{ topic: "a", reason: "epoch", afterN: 0, nextN: 2, skipped: 1, exact: true }] });
  });

  it("a gap that skips a message of the new epoch, or that skips nothing without an epoch change, is not exact", () => {
    const confirmed = confirmedOf({ 0: "old-1", 1: "new-1", 2: "new-2" });
    expect(analyseClient([msg(0, "old-1"), gap, msg(2, "new-2")], confirmed, attempts(3)).gaps).toMatchObject([{ skipped: 1, exact: false }]);
    expect(analyseClient([msg(0, "e-1"), gap, msg(1, "e-2"), msg(2, "e-3")], three, attempts(3)).gaps).toMatchObject([{ skipped: 0, exact: false }]);
    expect(analyseClient([msg(0, "old-1"), gap, msg(1, "new-1"), msg(2, "new-2")], confirmed, attempts(3)).gaps).toMatchObject([{ skipped: 0, exact: true }]);
  });

  it("takes the nearest-rank percentile", () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
  });
});
