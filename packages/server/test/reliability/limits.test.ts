/**
 * Slow consumers and dead peers: every connection's outbound buffer is bounded in messages as
 * well as bytes (4408 TOO_SLOW past it), a WebSocket peer that stops answering is terminated,
 * and a healthy burst is never mistaken for a slow reader.
 */
import { connect as netConnect, type Socket } from "node:net";
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { ServerFrame } from "@throughline/wire";
import { cleanup, hello, messages, onCleanup, openSse, openWs, poll, sleep, start, waitFor, type Started } from "../helpers.js";

afterEach(cleanup);

/** Options where only the message limit can trigger: bytes are practically unlimited. */
const MESSAGE_LIMITED = { maxBufferedMessages: 64, maxBufferedBytes: 512 * 1024 * 1024, heartbeatMs: 60_000 };

/**
 * Publishes small messages until the server has no connection left, at most 200 000/s (batches
 * of 1 000, 5 ms apart): the cut comes a grace second after the kernel buffers fill, so the
 * `max` cap must take longer than that to reach however fast the machine publishes.
 */
async function publishUntilCut(s: Started, max = 400_000): Promise<number> {
  let n = 0;
  while (s.rt.connectionCount > 0 && n < max) {
    for (let i = 0; i < 1_000; i++) s.rt.publish("t", n++);
    await sleep(5);
  }
  return n;
}

describe("bounded outbound buffer in messages", () => {
  it("closes a WebSocket whose reader stalled with 4408 once more than maxBufferedMessages are unsent", async () => {
    const s = await start(MESSAGE_LIMITED);
    const c = await openWs(`${s.url}/ws?topics=t`);
    await waitFor(() => c.frames.length >= 1, "hello");
    c.ws.pause(); // stop reading: the kernel buffers fill, then the server's own buffer
    const published = await publishUntilCut(s);
    expect(s.rt.connectionCount).toBe(0);
    expect(published).toBeLessThan(400_000);
    c.ws.resume();
    const closed = await c.closedPromise;
    expect(closed.code).toBe(4408);
    expect(c.frames.at(-1)).toMatchObject({ type: "close", code: 4408 });
  });

  it("closes an SSE stream whose reader stalled with a 4408 close frame", async () => {
    const s = await start(MESSAGE_LIMITED);
    const c = await openSse(`${s.url}/sse?topics=t`);
    await waitFor(() => c.frames.length >= 1, "hello");
    c.response.pause();
    await publishUntilCut(s);
    expect(s.rt.connectionCount).toBe(0);
    c.response.resume();
    await c.ended;
    expect(c.frames.at(-1)).toMatchObject({ type: "close", code: 4408 });
  });

  it("closes a long-poll session that stopped polling once its queue passes maxBufferedMessages", async () => {
    const s = await start({ ...MESSAGE_LIMITED, longPollHoldMs: 200 });
    const first = await poll(s.url, { topics: "t" });
    const h = hello(first.frames);
    for (let i = 0; i <= MESSAGE_LIMITED.maxBufferedMessages; i++) s.rt.publish("t", i);
    const next = await poll(s.url, { session: h.session, cursor: h.cursor });
    expect(next.frames.at(-1)).toMatchObject({ type: "close", code: 4408 });
    // What it failed to fetch is not held for it: it resumes from history instead.
    expect(messages(next.frames)).toEqual([]);
  });

  it("does not close a healthy reader that receives a synchronous burst far larger than the limit", async () => {
    const s = await start(MESSAGE_LIMITED);
    const ws = await openWs(`${s.url}/ws?topics=t`);
    const sse = await openSse(`${s.url}/sse?topics=t`);
    await waitFor(() => ws.frames.length >= 1 && sse.frames.length >= 1, "hellos");
    const burst = MESSAGE_LIMITED.maxBufferedMessages * 20;
    for (let i = 0; i < burst; i++) s.rt.publish("t", i);
    await waitFor(() => messages(ws.frames).length === burst && messages(sse.frames).length === burst, "the whole burst on both", 20_000);
    // The SSE proof probe (a control frame, 100 ms after the opening) may come after the burst.
    expect([ws.closed, sse.frames.filter((f) => f.type !== "probe").at(-1)]).toEqual([undefined, expect.objectContaining({ type: "message" })]);
    expect(s.rt.connectionCount).toBe(2);
    expect(ws.frames.some((f) => f.type === "close") || sse.frames.some((f) => f.type === "close")).toBe(false);
  });

  it("rejects a maxBufferedMessages below 1 with TL_INVALID_OPTION", async () => {
    await expect(start({ maxBufferedMessages: 0 })).rejects.toMatchObject({ code: "TL_INVALID_OPTION" });
  });
});

/** A WebSocket client by hand: upgrades, then never reads or answers anything (a vanished peer). */
function silentWebSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, "127.0.0.1");
    onCleanup(() => {
      socket.destroy();
    });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.write(
        "GET /realtime/ws?topics=t HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    let head = "";
    const onData = (b: Buffer) => {
      head += b.toString("latin1");
      if (head.includes("\r\n\r\n")) {
        socket.off("data", onData);
        expect(head.startsWith("HTTP/1.1 101")).toBe(true);
        socket.pause();
        resolve(socket);
      }
    };
    socket.on("data", onData);
  });
}

describe("dead WebSocket peers", () => {
  it("terminates a WebSocket that answers neither frames nor pings within clientTimeoutMs", async () => {
    const s = await start({ heartbeatMs: 50, clientTimeoutMs: 300 });
    const socket = await silentWebSocket(s.port);
    await waitFor(() => s.rt.connectionCount === 1, "the connection");
    await waitFor(() => s.rt.connectionCount === 0, "the dead peer to be terminated", 10_000);
    // Terminated, not politely closed: the peer gets the TCP end at once.
    socket.resume();
    await waitFor(() => socket.destroyed || socket.readableEnded, "the server to end the socket", 10_000);
  });

  it("keeps a quiet but healthy WebSocket (it answers pings) well past clientTimeoutMs", async () => {
    const s = await start({ heartbeatMs: 50, clientTimeoutMs: 300 });
    const c = await openWs(`${s.url}/ws?topics=t`);
    await waitFor(() => c.frames.length >= 1, "hello");
    // The ws library answers pings by itself; the test sends no frame of its own.
    await sleep(1_200);
    expect(c.closed).toBeUndefined();
    expect(s.rt.connectionCount).toBe(1);
    const id = s.rt.publish("t", "still here");
    await waitFor(() => messages(c.frames).some((m) => m.id === id), "a live message");
  });

  it("rejects a clientTimeoutMs not above heartbeatMs", async () => {
    await expect(start({ heartbeatMs: 1_000, clientTimeoutMs: 1_000 })).rejects.toMatchObject({ code: "TL_INVALID_OPTION" });
  });
});

describe("hostile cursors stay bounded", () => {
  const huge = "x".repeat(8_000);
  for (const [label, cursor] of [
    ["an 8 KB garbage cursor", huge],
    ["an 8 KB cursor of digits", `abc-${"9".repeat(8_000)}`],
    ["a cursor with control characters", "\u0000\u0001-\u00ff"],
  ] as const) {
    it(`answers ${label} with one invalid-cursor gap on every transport, never a replay`, async () => {
      const s = await start();
      for (let i = 0; i < 50; i++) s.rt.publish("t", i);
      const head = `${s.rt.epoch}-50`;
      const expectGap = (frames: readonly ServerFrame[]) => {
        expect(hello(frames).cursor).toBe(head);
        // Only what carries history counts: a probe or heartbeat may land in the window on a
        // loaded machine, and is not a replay.
        const history = frames.slice(1).filter((f) => f.type === "message" || f.type === "gap");
        expect(history).toEqual([{ type: "gap", topic: "*", reason: "invalid-cursor", cursor: head }]);
      };
      const q = `topics=t&cursor=${encodeURIComponent(cursor)}`;
      const sse = await openSse(`${s.url}/sse?${q}`);
      const ws = await openWs(`${s.url}/ws?${q}`);
      const lp = await poll(s.url, { topics: "t", cursor });
      await waitFor(() => sse.frames.length >= 2 && ws.frames.length >= 2, "hello and gap");
      await sleep(50);
      expectGap(sse.frames);
      expectGap(ws.frames);
      expectGap(lp.frames);
    });
  }

  it("answers an 8 KB Last-Event-ID header with an invalid-cursor gap", async () => {
    const s = await start();
    s.rt.publish("t", 1);
    const c = await openSse(`${s.url}/sse?topics=t`, { "last-event-id": huge });
    await waitFor(() => c.frames.length >= 2, "hello and gap");
    expect(c.frames[1]).toMatchObject({ type: "gap", topic: "*", reason: "invalid-cursor" });
  });
});

describe("a resume bigger than maxBufferedBytes", () => {
  // 10 MB of replay against a 1 MB buffer bound: more than the kernel takes at once, so the
  // opening write leaves megabytes unsent. It is exempt until the buffer first drains to the
  // bound; without that, every resume would be cut with 4408 before it could be read.
  const OPTS = { maxBufferedBytes: 1024 * 1024, maxOutboundBytes: 64 * 1024, history: { size: 1_000 }, heartbeatMs: 60_000, probeDelayMs: 0 };
  const fill = (s: Started) => {
    const big = "x".repeat(10 * 1024);
    let first = "";
    for (let i = 0; i < 1_000; i++) {
      const id = s.rt.publish("t", { i, big });
      if (i === 0) first = id;
    }
    return `${first.slice(0, first.lastIndexOf("-"))}-0`;
  };

  const openers = { SSE: openSse, WebSocket: openWs } as const;
  for (const [name, path] of [["SSE", "sse"], ["WebSocket", "ws"]] as const) {
    it(`is delivered whole on ${name}`, async () => {
      const s = await start(OPTS);
      const cursor = fill(s);
      const c = await openers[name](`${s.url}/${path}?topics=t&cursor=${cursor}`);
      await waitFor(() => messages(c.frames).length >= 1_000 || c.frames.some((f) => f.type === "close"), "replay", 20_000);
      expect(c.frames.find((f) => f.type === "close")).toBeUndefined();
      expect(messages(c.frames).map((m) => (m.data as { i: number }).i)).toEqual([...Array(1_000).keys()]);
    });
  }
});
