import { afterEach, describe, expect, it } from "vitest";
import type { ServerFrame } from "@throughline/wire";
import { cleanup, hello, messages, openSse, openWs, poll, start, waitFor, type Started } from "./helpers.js";

afterEach(cleanup);

type Connect = (s: Started, params: Record<string, string>) => Promise<ServerFrame[]>;

/** Opens a connection with the given query and returns its frames once the opening frames are there. */
const transports: Record<string, Connect> = {
  sse: async ({ url }, params) => {
    const c = await openSse(`${url}/sse?${new URLSearchParams(params)}`);
    await waitFor(() => c.frames.length >= 1, "the SSE hello");
    return c.frames;
  },
  "sse (Last-Event-ID header)": async ({ url }, params) => {
    const { cursor, ...rest } = params;
    const c = await openSse(`${url}/sse?${new URLSearchParams(rest)}`, cursor === undefined ? {} : { "last-event-id": cursor });
    await waitFor(() => c.frames.length >= 1, "the SSE hello");
    return c.frames;
  },
  "sse (lastEventId query)": async ({ url }, params) => {
    const { cursor, ...rest } = params;
    const c = await openSse(`${url}/sse?${new URLSearchParams(cursor === undefined ? rest : { ...rest, lastEventId: cursor })}`);
    await waitFor(() => c.frames.length >= 1, "the SSE hello");
    return c.frames;
  },
  websocket: async ({ url }, params) => {
    const c = await openWs(`${url}/ws?${new URLSearchParams(params)}`);
    await waitFor(() => c.frames.length >= 1, "the WebSocket hello");
    return c.frames;
  },
  "long-poll": async ({ url }, params) => (await poll(url, params)).frames,
};

/** The replay is written together with the hello; give the rest a moment to arrive. */
async function settle(frames: ServerFrame[], count: number): Promise<ServerFrame[]> {
  await waitFor(() => frames.length >= count, `${count} opening frames`);
  return frames;
}

for (const [name, connect] of Object.entries(transports)) {
  describe(`resume over ${name}`, () => {
    it("replays exactly the missed messages of its topics, in order, after the hello", async () => {
      const s = await start();
      const ids = [s.rt.publish("a", 1), s.rt.publish("b", 2), s.rt.publish("a", 3), s.rt.publish("c", 4), s.rt.publish("b", 5)];
      const frames = await settle(await connect(s, { topics: "a,b", cursor: ids[0]! }), 4);
      expect(hello(frames).cursor).toBe(ids[0]);
      expect(frames.slice(1).map((f) => f.type)).toEqual(["message", "message", "message"]);
      expect(messages(frames).map((m) => m.id)).toEqual([ids[1], ids[2], ids[4]]);
      expect(messages(frames).map((m) => m.data)).toEqual([2, 3, 5]);
    });

    it("replays nothing from the head cursor and nothing without a cursor", async () => {
      const s = await start();
      const last = [s.rt.publish("a", 1), s.rt.publish("a", 2)][1]!;
      const fromHead = await connect(s, { cursor: last });
      expect(fromHead.map((f) => f.type)).toEqual(["hello"]);
      expect(hello(fromHead).cursor).toBe(last);
      const fresh = await connect(s, {});
      expect(fresh.map((f) => f.type)).toEqual(["hello"]);
      expect(hello(fresh).cursor).toBe(last);
    });

    it("reports an evicted gap for the topic, then replays what is retained", async () => {
      const s = await start({ history: { size: 2 } });
      const ids = [s.rt.publish("a", 1), s.rt.publish("a", 2), s.rt.publish("b", 3), s.rt.publish("a", 4)];
      // Topic a kept 2 and 4 (1 evicted); the cursor ids[0] is exactly the evicted one: no gap.
      const noGap = await settle(await connect(s, { topics: "a", cursor: ids[0]! }), 3);
      expect(noGap.map((f) => f.type)).toEqual(["hello", "message", "message"]);
      s.rt.publish("a", 5); // evicts 2
      const frames = await settle(await connect(s, { topics: "a,b", cursor: ids[0]! }), 5);
      expect(frames[1]).toEqual({ type: "gap", topic: "a", reason: "evicted", cursor: ids[0] });
      expect(messages(frames).map((m) => m.data)).toEqual([3, 4, 5]);
    });

    it("reports one epoch gap for a cursor of another epoch and goes live from the head", async () => {
      const s = await start();
      s.rt.publish("a", 1);
      const head = s.rt.publish("a", 2);
      const frames = await connect(s, { cursor: "otherepoch-1" });
      expect(hello(frames).cursor).toBe(head);
      expect(frames.slice(1)).toEqual([{ type: "gap", topic: "*", reason: "epoch", cursor: head }]);
    });

    for (const [label, cursor] of [
      ["garbage", "garbage!"],
      ["10 KB long", "x".repeat(10_240)],
      ["from the future", "FUTURE"],
      ["a huge sequence", "EPOCH-999999999999999"],
      ["unsafe digits", "EPOCH-99999999999999999999"],
    ] as const) {
      it(`reports an invalid-cursor gap for a ${label} cursor, never a full replay`, async () => {
        const s = await start();
        s.rt.publish("a", 1);
        const head = s.rt.publish("a", 2);
        const c = cursor === "FUTURE" ? `${s.rt.epoch}-3` : cursor.replace("EPOCH", s.rt.epoch);
        const frames = await connect(s, { cursor: c });
        expect(hello(frames).cursor).toBe(head);
        expect(frames.slice(1)).toEqual([{ type: "gap", topic: "*", reason: "invalid-cursor", cursor: head }]);
        // And the stream is live from the head.
        expect(s.rt.publish("a", 3)).toMatch(/-3$/);
      });
    }
  });
}

describe("resume precedence over SSE", () => {
  it("prefers the Last-Event-ID header over the cursor and lastEventId query parameters", async () => {
    const { url, rt } = await start();
    const ids = [rt.publish("a", 1), rt.publish("a", 2), rt.publish("a", 3)];
    const c = await openSse(`${url}/sse?cursor=${ids[0]}&lastEventId=${ids[0]}`, { "last-event-id": ids[1]! });
    await waitFor(() => c.frames.length >= 2, "hello and replay");
    expect(messages(c.frames).map((m) => m.id)).toEqual([ids[2]]);
    const q = await openSse(`${url}/sse?cursor=${ids[1]}&lastEventId=${ids[0]}`);
    await waitFor(() => q.frames.length >= 2, "hello and replay");
    expect(messages(q.frames).map((m) => m.id)).toEqual([ids[2]]);
  });
});
