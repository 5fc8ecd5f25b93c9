/**
 * Per-tab delivery of the shared stream: only the tab's topics, each message once, in order —
 * whatever two leaders' streams (the old one's tail and the new one's resume) interleave.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatId, type Message } from "@throughline/wire";
import { createTabDelivery, isStale, unionTopics } from "../../src/share/delivery.js";

const NUM_RUNS = Number(process.env.TL_FC_RUNS ?? 200);
const msg = (seq: number, topic: string, epoch = "e1"): Message => ({ id: formatId(epoch, seq), topic, event: "message", data: seq });

describe("tab delivery", () => {
  it("delivers only the tab's topics and moves the cursor on every message", () => {
    const d = createTabDelivery(["a"]);
    expect(d.message(msg(1, "a"))?.data).toBe(1);
    expect(d.message(msg(2, "b"))).toBeUndefined();
    expect(d.cursor).toBe("e1-2");
    expect(d.message(msg(2, "a"))).toBeUndefined();
    expect(d.gap({ type: "gap", topic: "b", reason: "evicted", cursor: "x" })).toBe(false);
    expect(d.gap({ type: "gap", topic: "*", reason: "epoch", cursor: "x" })).toBe(true);
  });

  it("takes a message of another epoch as new (a restarted history)", () => {
    expect(isStale("e2-1", "e1-9")).toBe(false);
    expect(isStale("e1-9", "e1-9")).toBe(true);
    expect(isStale("e1-3", null)).toBe(false);
  });

  it("unions topics, * absorbing the rest, sorted", () => {
    expect(unionTopics([["b", "a"], ["a", "c"]])).toEqual(["a", "b", "c"]);
    expect(unionTopics([["b"], ["*"]])).toEqual(["*"]);
  });

  it("any interleaving of an old leader's stream and a new leader's resume delivers each message of the tab's topics once, in order", () => {
    const topicArb = fc.constantFrom("a", "b", "c");
    fc.assert(
      fc.property(
        fc.array(topicArb, { minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.nat(),
        fc.array(fc.boolean(), { maxLength: 100 }),
        (topics, oldStopRaw, resumeRaw, picks) => {
          const all = topics.map((t, i) => msg(i + 1, t));
          // The old leader delivered a prefix; the new one resumes from a cursor at or before it.
          const oldStop = oldStopRaw % (all.length + 1);
          const resume = resumeRaw % (oldStop + 1);
          const oldStream = all.slice(0, oldStop);
          const newStream = all.slice(resume);
          const d = createTabDelivery(["a", "c"]);
          const got: number[] = [];
          let i = 0;
          let j = 0;
          for (const pickOld of picks) {
            if (pickOld && i < oldStream.length) {
              const m = d.message(oldStream[i++]!);
              if (m) got.push(m.data as number);
            } else if (j < newStream.length && (i >= resume || i === oldStream.length)) {
              // The new leader only starts once the tab has seen up to its cursor (it resumes from the cursor it saw).
              const m = d.message(newStream[j++]!);
              if (m) got.push(m.data as number);
            }
          }
          while (i < oldStream.length) {
            const m = d.message(oldStream[i++]!);
            if (m) got.push(m.data as number);
          }
          while (j < newStream.length) {
            const m = d.message(newStream[j++]!);
            if (m) got.push(m.data as number);
          }
          expect(got).toEqual(all.filter((m) => m.topic !== "b").map((m) => m.data));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
