import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { History } from "@throughline/server";

interface Entry {
  seq: number;
  topic: string;
  time: number;
}

function make(size: number, maxAgeMs: number) {
  let now = 0;
  const h = new History<Entry>({ size, maxAgeMs }, () => now);
  let seq = 0;
  return {
    h,
    add: (topic: string) => {
      const e = { seq: ++seq, topic, time: now };
      h.add(e);
      return e;
    },
    tick: (ms: number) => (now += ms),
  };
}

describe("History", () => {
  it("keeps the newest `size` entries per topic and reports a gap below the evicted ones", () => {
    const { h, add } = make(2, Infinity);
    const a1 = add("a");
    add("b");
    add("a");
    add("a");
    expect(h.since(["a"], 0).entries.map((e) => e.seq)).toEqual([3, 4]);
    expect(h.since(["a"], 0).gaps).toEqual(["a"]);
    expect(h.since(["a"], a1.seq).gaps).toEqual([]);
    expect(h.since(["b"], 0)).toEqual({ entries: [expect.objectContaining({ seq: 2 })], gaps: [] });
    expect(h.evictedUpTo("a")).toBe(1);
  });

  it("evicts entries at maxAgeMs, keeping the topic's gap mark", () => {
    const { h, add, tick } = make(100, 1_000);
    add("a");
    tick(500);
    add("a");
    tick(499);
    expect(h.since(["a"], 0).entries.map((e) => e.seq)).toEqual([1, 2]);
    tick(1);
    expect(h.since(["a"], 0)).toEqual({ entries: [expect.objectContaining({ seq: 2 })], gaps: ["a"] });
    tick(10_000);
    h.prune();
    expect(h.size).toBe(0);
    expect(h.since(["a"], 1).gaps).toEqual(["a"]);
    expect(h.since(["a"], 2).gaps).toEqual([]);
  });

  it("merges several topics and the wildcard in sequence order", () => {
    const { h, add } = make(10, Infinity);
    for (const t of ["a", "b", "c", "a", "c", "b"]) add(t);
    expect(h.since(["c", "a"], 1).entries.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(h.since(["*"], 2).entries.map((e) => e.seq)).toEqual([3, 4, 5, 6]);
    expect(h.since(["nope"], 0)).toEqual({ entries: [], gaps: [] });
  });

  it("compacts its storage without losing order over many evictions", () => {
    const { h, add } = make(3, Infinity);
    for (let i = 0; i < 10_000; i++) add("a");
    expect(h.since(["a"], 0).entries.map((e) => e.seq)).toEqual([9_998, 9_999, 10_000]);
    expect(h.size).toBe(3);
  });

  it("property: since() returns exactly the retained entries > cursor in order, and a gap iff an evicted seq > cursor", () => {
    const topicArb = fc.constantFrom("a", "b", "c", "d");
    const opArb = fc.oneof(
      fc.record({ kind: fc.constant("publish" as const), topic: topicArb, dt: fc.integer({ min: 0, max: 50 }) }),
      fc.record({
        kind: fc.constant("since" as const),
        topics: fc.oneof(fc.constant(["*"]), fc.uniqueArray(topicArb, { minLength: 1, maxLength: 4 })),
        cursorBack: fc.integer({ min: 0, max: 60 }),
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 200 })), fc.array(opArb, { maxLength: 80 }), (size, maxAgeMs, ops) => {
        let now = 0;
        const h = new History<Entry>({ size, maxAgeMs }, () => now);
        // The model: every entry ever added, and which are evicted (by count per topic or by age).
        const all: Entry[] = [];
        let seq = 0;
        const retainedModel = (): Set<number> => {
          const keep = new Set<number>();
          for (const t of ["a", "b", "c", "d"]) {
            const ofTopic = all.filter((e) => e.topic === t);
            // Count eviction applies at add time; age eviction is monotone, so the newest `size`
            // entries that are still young enough are what remains.
            ofTopic.slice(-size).forEach((e) => {
              if (now - e.time < maxAgeMs) keep.add(e.seq);
            });
          }
          return keep;
        };
        for (const op of ops) {
          if (op.kind === "publish") {
            now += op.dt;
            const e = { seq: ++seq, topic: op.topic, time: now };
            all.push(e);
            h.add(e);
          } else {
            const cursor = Math.max(0, seq - op.cursorBack);
            const got = h.since(op.topics, cursor);
            const keep = retainedModel();
            const topics: readonly string[] = op.topics;
            const inTopics = (t: string) => topics[0] === "*" || topics.includes(t);
            const expected = all.filter((e) => keep.has(e.seq) && e.seq > cursor && inTopics(e.topic)).map((e) => e.seq);
            expect(got.entries.map((e) => e.seq)).toEqual(expected);
            const gapTopics = new Set(all.filter((e) => !keep.has(e.seq) && e.seq > cursor && inTopics(e.topic)).map((e) => e.topic));
            expect(new Set(got.gaps)).toEqual(gapTopics);
            expect(got.gaps.length).toBe(gapTopics.size);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("property: covers(topics, cursor) is true exactly when since(topics, cursor) reports no gap", () => {
    const topicArb = fc.constantFrom("a", "b", "c", "d");
    const opArb = fc.oneof(
      fc.record({ kind: fc.constant("publish" as const), topic: topicArb, dt: fc.integer({ min: 0, max: 50 }) }),
      fc.record({
        kind: fc.constant("check" as const),
        topics: fc.oneof(fc.constant(["*"]), fc.uniqueArray(topicArb, { minLength: 1, maxLength: 4 })),
        cursorBack: fc.integer({ min: 0, max: 60 }),
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 200 })), fc.integer({ min: 1, max: 5 }), fc.array(opArb, { maxLength: 80 }), (size, maxAgeMs, maxTopics, ops) => {
        let now = 0;
        let seq = 0;
        const h = new History<Entry>({ size, maxAgeMs, maxTopics }, () => now);
        for (const op of ops) {
          if (op.kind === "publish") {
            now += op.dt;
            h.add({ seq: ++seq, topic: op.topic, time: now });
          } else {
            const cursor = Math.max(0, seq - op.cursorBack);
            expect(h.covers(op.topics, cursor)).toBe(h.since(op.topics, cursor).gaps.length === 0);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
