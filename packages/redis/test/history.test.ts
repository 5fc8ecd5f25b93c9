/**
 * The shared history: append assigns one ordered sequence across topics and resolves only once
 * the message is stored; since() reads it back for a resume and says exactly where it stops
 * covering a cursor.
 */
import { describe, expect, it } from "vitest";
import { sharedRedis } from "./helpers.js";

const { nodes } = sharedRedis();

describe("append and since", () => {
  it("gives one increasing sequence across topics and nodes, all in one epoch", async () => {
    const a = nodes.make();
    const b = nodes.make();
    const p1 = await a.append("alerts", "message", '{"n":1}');
    const p2 = await b.append("news", "message", '{"n":2}');
    const p3 = await a.append("alerts", "alert", '"three"');
    expect([p1.seq, p2.seq, p3.seq]).toEqual([1, 2, 3]);
    expect(new Set([p1.epoch, p2.epoch, p3.epoch]).size).toBe(1);
    expect(await b.head()).toEqual(p3);
  });

  it("serves many calls made at once on a fresh backplane (one shared first connect)", async () => {
    const a = nodes.make();
    const positions = await Promise.all(Array.from({ length: 20 }, (_, i) => a.append("t", "message", String(i))));
    expect(positions.map((p) => p.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const b = nodes.make();
    const [ticket, head] = await Promise.all([b.tickets.issue("k", "v", 1_000), b.head()]);
    expect(ticket).toBe(true);
    expect(head.seq).toBe(20);
  });

  it("reads back the messages after a cursor, filtered by topic, byte for byte", async () => {
    const a = nodes.make();
    const data = ['{"a":"é"}', "null", '"\\u0000 and \\n"'];
    const start = await a.head();
    await a.append("x", "message", data[0]!);
    await a.append("y", "message", data[1]!);
    await a.append("x", "ev.custom", data[2]!);
    const b = nodes.make();
    const all = await b.since(["*"], start);
    expect(all.gap).toBeUndefined();
    expect(all.messages.map((m) => [m.seq, m.topic, m.event, m.data])).toEqual([
      [1, "x", "message", data[0]],
      [2, "y", "message", data[1]],
      [3, "x", "ev.custom", data[2]],
    ]);
    const xAfter1 = await b.since(["x"], { epoch: start.epoch, seq: 1 });
    expect(xAfter1.messages.map((m) => m.seq)).toEqual([3]);
    expect(xAfter1.head).toEqual({ epoch: start.epoch, seq: 3 });
    expect((await b.since(["*"], xAfter1.head)).messages).toEqual([]);
  });

  it("pages with limit and says when there is more", async () => {
    const a = nodes.make();
    const start = await a.head();
    for (let i = 0; i < 5; i++) await a.append("t", "message", String(i));
    const page = await a.since(["*"], start, 2);
    expect(page.messages.map((m) => m.seq)).toEqual([1, 2]);
    expect(page.more).toBe(true);
    const rest = await a.since(["*"], page.messages[1]!, 10);
    expect(rest.messages.map((m) => m.seq)).toEqual([3, 4, 5]);
    expect(rest.more).toBe(false);
  });

  it("reports a cursor older than the retained history as an evicted gap at the exact point", async () => {
    const a = nodes.make({ historyLength: 10 });
    const start = await a.head();
    // MAXLEN ~ trims whole stream nodes (100 entries each by default), so append well past it.
    for (let i = 0; i < 400; i++) await a.append("t", "message", String(i));
    const read = await a.since(["*"], { epoch: start.epoch, seq: 3 }, 1_000);
    expect(read.gap).toBeDefined();
    expect(read.gap!.reason).toBe("evicted");
    expect(read.gap!.cursor).toEqual({ epoch: start.epoch, seq: 3 });
    const first = read.messages[0]!;
    expect(read.gap!.continueAfter).toEqual({ epoch: start.epoch, seq: first.seq - 1 });
    expect(read.messages.map((m) => m.seq)).toEqual(Array.from({ length: 400 - first.seq + 1 }, (_, i) => first.seq + i));
    expect(read.messages.length).toBeGreaterThanOrEqual(10);
    expect(read.messages.length).toBeLessThan(400);
  });

  it("reports a cursor of another epoch as an epoch gap, continuing from the start of this one", async () => {
    const a = nodes.make();
    const start = await a.head();
    await a.append("t", "message", "1");
    const read = await a.since(["*"], { epoch: "zzzzzz", seq: 7 });
    expect(read.gap).toEqual({ reason: "epoch", cursor: { epoch: "zzzzzz", seq: 7 }, continueAfter: { epoch: start.epoch, seq: 0 } });
    expect(read.messages.map((m) => m.seq)).toEqual([1]);
  });

  it("answers a client's cursor ahead of the head with an ahead gap for that client only, when cursors are not trusted", async () => {
    const a = nodes.make();
    const { epoch } = await a.append("t", "message", "1");
    const b = nodes.make({ trustClientCursors: false });
    // A forged (or unprovable) cursor must not reset the shared history for everyone.
    const read = await b.since(["*"], { epoch, seq: 50 });
    expect(read.gap).toEqual({ reason: "ahead", cursor: { epoch, seq: 50 }, continueAfter: { epoch, seq: 1 } });
    expect(read.messages).toEqual([]);
    expect(await a.append("t", "message", "2")).toEqual({ epoch, seq: 2 });
  });

  it("treats a cursor ahead of the head as history gone backwards (the default): a new epoch, at most once per clientRewindIntervalMs", async () => {
    const a = nodes.make();
    const { epoch } = await a.append("t", "message", "1");
    const b = nodes.make();
    const read = await b.since(["*"], { epoch, seq: 50 });
    expect(read.gap?.reason).toBe("epoch");
    expect(read.gap?.continueAfter.epoch).not.toBe(epoch);
    expect(read.gap?.continueAfter.seq).toBe(0);
    expect(read.messages).toEqual([]);
    const next = await a.append("t", "message", "2");
    expect(next).toEqual({ epoch: read.head.epoch, seq: 1 });
    // A second forged cursor within the interval (any node) resets nothing: that client alone gets `ahead`.
    const again = await nodes.make().since(["*"], { epoch: next.epoch, seq: 99 });
    expect(again.gap).toEqual({ reason: "ahead", cursor: { epoch: next.epoch, seq: 99 }, continueAfter: next });
    expect(await a.append("t", "message", "3")).toEqual({ epoch: next.epoch, seq: 2 });
  });

  it("passes redisOptions to ioredis (here a database number), keeping its own failure options", async () => {
    const a = nodes.make({ redisOptions: { db: 3, enableOfflineQueue: true, commandTimeout: 1 } });
    const b = nodes.make({ redisOptions: { db: 3 } });
    const c = nodes.make();
    const p = await a.append("t", "message", "in db 3");
    expect((await b.since(["*"], { epoch: p.epoch, seq: 0 })).messages.map((m) => m.data)).toEqual(["in db 3"]);
    // Database 0 holds another history under the same prefix.
    expect((await c.head()).epoch).not.toBe(p.epoch);
  });

  it("rejects bad arguments with stable codes, without touching Redis", async () => {
    const a = nodes.make();
    await expect(a.append("bad topic!", "message", "1")).rejects.toMatchObject({ code: "TL_BAD_TOPIC" });
    await expect(a.append("t", "", "1")).rejects.toMatchObject({ code: "TL_BAD_EVENT" });
    await expect(a.append("t", "message", 5 as unknown as string)).rejects.toMatchObject({ code: "TL_BAD_DATA" });
    await expect(a.since(["t"], { epoch: "NOPE", seq: 1 })).rejects.toMatchObject({ code: "TL_BAD_REQUEST" });
    await expect(a.since([], { epoch: "abc", seq: 1 })).rejects.toMatchObject({ code: "TL_BAD_TOPIC" });
    expect(() => nodes.make({ historyLength: 0 })).toThrow(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
    expect(() => nodes.make({ url: "http://x" })).toThrow(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
    expect(() => nodes.make({ keyPrefix: "a{b}" })).toThrow(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
    expect(() => nodes.make({ trustClientCursors: "yes" as unknown as boolean })).toThrow(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
  });

  it("rejects with TL_CLOSED after close()", async () => {
    const a = nodes.make();
    await a.close();
    await expect(a.append("t", "message", "1")).rejects.toMatchObject({ code: "TL_CLOSED" });
    await expect(a.subscribe({ message() {}, gap() {} })).rejects.toMatchObject({ code: "TL_CLOSED" });
  });
});
