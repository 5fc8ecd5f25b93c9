import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ReplicaStore, type Backfill } from "../src/replica.js";
import type { HistoryEntry } from "../src/history.js";

/** A replica of size 3 per topic over `n` messages alternating topics a, b, c (seq i → topic "abc"[i % 3]). */
function replicaOf(n: number): { replica: ReplicaStore; all: HistoryEntry[] } {
  const replica = new ReplicaStore("e1", { size: 3, maxAgeMs: Infinity }, () => 0);
  const all: HistoryEntry[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const e = { seq, topic: "abc"[seq % 3]!, time: 0 };
    all.push(e);
    replica.add(e);
  }
  return { replica, all };
}

/** What the shared history would give for (cursor, upTo]: the backfill a node reads. */
function backfillOf(all: HistoryEntry[], topics: string[], cursor: number, upTo: number, evicted = false): Backfill {
  const want = (e: HistoryEntry): boolean => topics[0] === "*" || topics.includes(e.topic);
  return { topics, cursor, upTo, entries: all.filter((e) => e.seq > cursor && e.seq <= upTo && want(e)), evicted };
}

describe("ReplicaStore backfill", () => {
  it("property: a held backfill reaching the replica's coverage makes since() exact (no dup, no hole), once", () => {
    const topicSets = fc.constantFrom<string[]>(["a"], ["b"], ["a", "c"], ["*"]);
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 60 }), topicSets, fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 }), (n, topics, c, extra) => {
        const { replica, all } = replicaOf(n);
        const cursor = Math.min(c, n);
        // Smallest position from which the replica vouches, then some more overlap.
        let from = cursor;
        while (!replica.covers(topics, from)) from++;
        fc.pre(from > cursor); // a node backfills only what its replica does not cover
        const upTo = Math.min(n, from + extra);
        const release = replica.hold(backfillOf(all, topics, cursor, upTo));
        const want = all.filter((e) => e.seq > cursor && (topics[0] === "*" || topics.includes(e.topic))).map((e) => e.seq);
        expect(replica.since(topics, cursor)).toEqual({ entries: want.map((s) => all[s - 1]), gaps: [] });
        // Taken by that plan: the next one from the same cursor gets the replica's own answer.
        expect(replica.held).toBe(0);
        expect(replica.since(topics, cursor).gaps).not.toEqual([]);
        release();
        expect(replica.held).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it("a backfill that stops short of the replica's coverage is not used: the local gap", () => {
    const { replica, all } = replicaOf(30);
    replica.hold(backfillOf(all, ["a"], 3, 10));
    expect(replica.since(["a"], 3).gaps).toEqual(["a"]);
  });

  it("the shared history's own gap goes to each topic at the cursor; a reset drops held backfills", () => {
    const { replica, all } = replicaOf(30);
    replica.hold(backfillOf(all, ["a", "b"], 2, 30, true));
    expect(replica.since(["a", "b"], 2).gaps).toEqual(["a", "b"]);
    const release = replica.hold(backfillOf(all, ["a"], 2, 30));
    expect(replica.held).toBeGreaterThan(0);
    replica.reset("e2", 0);
    expect(replica.held).toBe(0);
    release();
    expect(replica.held).toBe(0);
  });

  it("a released backfill is gone; one for other topics does not serve", () => {
    const { replica, all } = replicaOf(30);
    replica.hold(backfillOf(all, ["a"], 2, 30))();
    expect(replica.since(["a"], 2).gaps).toEqual(["a"]);
    replica.hold(backfillOf(all, ["a"], 2, 30));
    expect(replica.since(["a", "b"], 2).gaps).toEqual(["a", "b"]);
  });
});
