/**
 * The history store: bounded topic records, and hubs sharing one store (one epoch, one
 * sequence) so a client resumes on another instance without loss.
 */
import { afterEach, describe, expect, it } from "vitest";
import { MemoryHistoryStore, createServer, History, type HistoryEntry } from "@throughline/server";
import { cleanup, hello, messages, openSse, openWs, poll, start, waitFor } from "../helpers.js";

afterEach(cleanup);

const entry = (seq: number, topic: string): HistoryEntry => ({ seq, topic, time: 0 });

describe("bounded topic records", () => {
  it("keeps at most maxTopics topic records however many one-off topics are published", () => {
    const h = new History<HistoryEntry>({ size: 10, maxAgeMs: Infinity, maxTopics: 3 }, () => 0);
    for (let i = 1; i <= 1_000; i++) h.add(entry(i, `one-off-${i}`));
    expect(h.topicCount).toBe(3);
    expect(h.size).toBe(3);
  });

  it("reports a gap for a forgotten topic when the cursor is older than what was forgotten", () => {
    const h = new History<HistoryEntry>({ size: 10, maxAgeMs: Infinity, maxTopics: 2 }, () => 0);
    h.add(entry(1, "a"));
    h.add(entry(2, "b"));
    h.add(entry(3, "c")); // forgets "a" (least recently published)
    expect(h.since(["a"], 0).gaps).toEqual(["a"]);
    expect(h.since(["*"], 0).gaps).toContain("*");
    // A cursor at or past the forgotten mark is still fully covered.
    expect(h.since(["a", "b", "c"], 1)).toEqual({ entries: [entry(2, "b"), entry(3, "c")], gaps: [] });
    // A topic re-created after being forgotten cannot vouch for older cursors.
    h.add(entry(4, "a"));
    expect(h.since(["a"], 0).gaps).toEqual(["a"]);
    expect(h.since(["a"], 3)).toEqual({ entries: [entry(4, "a")], gaps: [] });
  });

  it("keeps a recently published topic over an older one", () => {
    const h = new History<HistoryEntry>({ size: 10, maxAgeMs: Infinity, maxTopics: 2 }, () => 0);
    h.add(entry(1, "hot"));
    h.add(entry(2, "cold"));
    h.add(entry(3, "hot"));
    h.add(entry(4, "new")); // forgets "cold", not "hot"
    expect(h.since(["hot"], 0)).toEqual({ entries: [entry(1, "hot"), entry(3, "hot")], gaps: [] });
    expect(h.since(["cold"], 0).gaps).toEqual(["cold"]);
  });

  it("turns a forgotten topic into an evicted gap on the wire", async () => {
    const s = await start({ history: { maxTopics: 2 } });
    const first = s.rt.publish("a", 1);
    s.rt.publish("b", 2);
    s.rt.publish("c", 3);
    const c = await openSse(`${s.url}/sse?topics=a&cursor=${s.rt.epoch}-0`);
    await waitFor(() => c.frames.length >= 2, "hello and gap");
    expect(c.frames[1]).toEqual({ type: "gap", topic: "a", reason: "evicted", cursor: `${s.rt.epoch}-0` });
    expect(messages(c.frames).map((m) => m.id)).not.toContain(first);
  });
});

describe("a shared history store", () => {
  it("gives hubs sharing it one epoch and one sequence", () => {
    const store = new MemoryHistoryStore();
    const a = createServer({ historyStore: store });
    const b = createServer({ historyStore: store });
    expect(a.epoch).toBe(store.epoch);
    expect(b.epoch).toBe(store.epoch);
    const ids = [a.publish("t", 1), b.publish("t", 2), a.publish("t", 3)];
    expect(ids).toEqual([1, 2, 3].map((n) => `${store.epoch}-${n}`));
    return Promise.all([a.close(), b.close()]);
  });

  it("replays on one instance what was published on another, on every transport", async () => {
    const store = new MemoryHistoryStore({ epoch: "shared1" });
    const a = await start({ historyStore: store });
    const b = await start({ historyStore: store });
    const ids = [a.rt.publish("t", "x"), a.rt.publish("t", "y"), a.rt.publish("u", "z")];
    const q = `topics=t&cursor=shared1-0`;
    const sse = await openSse(`${b.url}/sse?${q}`);
    const ws = await openWs(`${b.url}/ws?${q}`);
    const lp = await poll(b.url, { topics: "t", cursor: "shared1-0" });
    await waitFor(() => messages(sse.frames).length >= 2 && messages(ws.frames).length >= 2, "the replay");
    for (const frames of [sse.frames, ws.frames, lp.frames]) {
      expect(hello(frames).cursor).toBe("shared1-0");
      expect(frames.filter((f) => f.type === "gap")).toEqual([]);
      expect(messages(frames).map((m) => m.id)).toEqual(ids.slice(0, 2));
    }
  });

  it("rejects an epoch option that differs from the store's", () => {
    const store = new MemoryHistoryStore({ epoch: "one" });
    expect(() => createServer({ historyStore: store, epoch: "two" })).toThrow(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
    expect(() => createServer({ historyStore: {} as never })).toThrow(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
  });

  it("rejects out-of-range store options with TL_INVALID_OPTION", () => {
    for (const bad of [{ size: 0 }, { maxTopics: 1.5 }, { maxAgeMs: -1 }, { epoch: "NO-WAY" }]) {
      expect(() => new MemoryHistoryStore(bad)).toThrow(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
    }
    expect(new MemoryHistoryStore({ maxAgeMs: Infinity }).seq).toBe(0);
  });
});
