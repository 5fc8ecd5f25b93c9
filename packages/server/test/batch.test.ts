/**
 * Write coalescing (src/transports/batch.ts): what a connection receives in one turn of the event
 * loop goes out as one write at the end of the turn, with no timer, intact and in order, on real
 * SSE and WebSocket sockets; slow readers are still cut with 4408.
 */
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import type { Writable } from "node:stream";
import * as wsLib from "ws";
import { WebSocket, WebSocketServer } from "ws";
import { connect } from "@throughline/client/node";
import { Backlog } from "../src/backlog.js";
import { Envelope } from "../src/envelope.js";
import { Batch, coalesce, type BatchTarget } from "../src/transports/batch.js";
import { wsPeer } from "../src/transports/peer.js";
import { FakeClock, cleanup, messages, onCleanup, openSse, openWs, start, waitFor, type SseClient, type WsClient } from "./helpers.js";

afterEach(cleanup);

const envelope = (seq: number, data: unknown, topic = "t") => new Envelope("ep0ch", seq, topic, "message", JSON.stringify(data), 0);

/** `ws`'s frame parser: exported by `ws`, not typed by @types/ws. */
const Receiver = (wsLib as unknown as { Receiver: new (options: { isServer: boolean }) => Writable }).Receiver;

/** Decodes a byte run of server (unmasked) frames with `ws`'s own parser, as a `ws` client does. */
function decodeFrames(bytes: Buffer): string[] {
  const out: string[] = [];
  const receiver = new Receiver({ isServer: false });
  receiver.on("message", (data: Buffer, isBinary: boolean) => out.push(`${isBinary ? "binary:" : ""}${data.toString("utf8")}`));
  receiver.on("error", (err: Error) => out.push(`error: ${err.message}`));
  receiver.write(bytes);
  return out;
}

/** A target recording each flush's batch. */
function recorder(): BatchTarget & { flushes: number[][]; pending: Batch | undefined; deliver(e: Envelope): void } {
  const t = {
    flushes: [] as number[][],
    pending: undefined as Batch | undefined,
    deliver(e: Envelope) {
      t.pending = coalesce(t, t.pending, e);
    },
    flushBatch() {
      const b = t.pending;
      t.pending = undefined;
      if (b) t.flushes.push(b.envelopes().map((e) => e.seq));
    },
  };
  return t;
}

describe("Batch and coalesce", () => {
  it("writes nothing during the publishing turn and everything of it in one flush per target, in a microtask", async () => {
    const a = recorder();
    const b = recorder();
    const envs = [1, 2, 3].map((i) => envelope(i, i));
    for (const e of envs) {
      a.deliver(e);
      b.deliver(e);
    }
    expect([a.flushes, b.flushes]).toEqual([[], []]);
    // Same messages in the same order: the very same batch, so its bytes are joined once.
    expect(a.pending).toBe(b.pending);
    expect(a.pending!.sse).toBe(b.pending!.sse);
    await Promise.resolve(); // one microtask turn, no timer
    expect([a.flushes, b.flushes]).toEqual([[[1, 2, 3]], [[1, 2, 3]]]);
    a.deliver(envelope(4, 4));
    await Promise.resolve();
    expect(a.flushes).toEqual([[1, 2, 3], [4]]);
  });

  it("keeps targets with different messages apart (different topics share nothing wrongly)", async () => {
    const a = recorder();
    const b = recorder();
    const [e1, e2, e3] = [1, 2, 3].map((i) => envelope(i, i));
    a.deliver(e1!);
    b.deliver(e1!);
    a.deliver(e2!);
    b.deliver(e3!);
    a.deliver(e3!);
    await Promise.resolve();
    expect([a.flushes, b.flushes]).toEqual([[[1, 2, 3]], [[1, 3]]]);
  });

  it("joins prebuilt WebSocket frames that ws's own parser reads back, across every header size", () => {
    const sizes = [0, 1, 100, 125 - 20, 126, 1_000, 65_535 - 20, 65_536, 70_000];
    const envs = sizes.map((n, i) => envelope(i + 1, "x".repeat(n)));
    let batch: Batch | undefined;
    for (const e of envs) batch = batch ? batch.then(e) : new Batch(e, undefined);
    expect(decodeFrames(batch!.wsFrames)).toEqual(envs.map((e) => e.json));
    for (const e of envs) expect(decodeFrames(e.wsFrame)).toEqual([e.json]);
  });

  it("counts a batch's messages in the backlog and gives them back on its write callback", () => {
    let over = 0;
    const b = new Backlog(4, { close: () => over++ });
    b.wrote(3);
    const done = b.doneFor(3);
    expect(b.count).toBe(3);
    done();
    expect(b.count).toBe(0);
    b.dispose();
    expect(over).toBe(0);
  });
});

/** A `ws` server on loopback with the given compression setting, handing out its sockets. */
async function wsServer(perMessageDeflate: boolean): Promise<{ url: string; next: Promise<import("ws").WebSocket> }> {
  const http: Server = createHttpServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate });
  const next = new Promise<import("ws").WebSocket>((resolve) => wss.once("connection", resolve));
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  onCleanup(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        http.close(() => r());
      }),
  );
  return { url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}`, next };
}

describe("wsPeer.sendFrames", () => {
  for (const deflate of [false, true]) {
    it(`${deflate ? "declines with permessage-deflate (send still works)" : "writes raw frames a ws client reads"}`, async () => {
      const srv = await wsServer(deflate);
      const client = new WebSocket(srv.url, { perMessageDeflate: deflate });
      onCleanup(() => client.terminate());
      const got: string[] = [];
      client.on("message", (d) => got.push(String(d)));
      const peer = wsPeer(await srv.next);
      await new Promise((r) => client.once("open", r));
      const envs = [1, 2, 3].map((i) => envelope(i, { i, pad: "y".repeat(i * 100) }));
      const joined = new Batch(envs[0]!, undefined).then(envs[1]!).then(envs[2]!).wsFrames;
      const took = peer.sendFrames!(joined);
      expect(took).toBe(!deflate);
      if (!took) for (const e of envs) peer.send(e.jsonBuffer);
      await waitFor(() => got.length === 3, "three messages");
      expect(got).toEqual(envs.map((e) => e.json));
    });
  }
});

describe("coalesced writes on real sockets", () => {
  it("delivers a one-turn burst intact and in order to SSE and WebSocket clients", async () => {
    const s = await start({ heartbeatMs: 60_000 });
    const sse = await openSse(`${s.url}/sse?topics=t`);
    const ws = await openWs(`${s.url}/ws?topics=t`);
    await waitFor(() => sse.frames.length >= 1 && ws.frames.length >= 1, "hellos");
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(s.rt.publish("t", { i, text: `message ${i} ${"é".repeat(i)}` }));
    await waitFor(() => messages(sse.frames).length === 50 && messages(ws.frames).length === 50, "the burst");
    for (const c of [sse, ws]) {
      expect(messages(c.frames).map((m) => m.id)).toEqual(ids);
      expect(messages(c.frames).map((m) => (m.data as { i: number }).i)).toEqual([...Array(50).keys()]);
      expect(c.frames.some((f) => f.type === "close")).toBe(false);
    }
  });

  for (const transport of ["sse", "websocket"] as const) {
    it(`delivers one-turn bursts to the real client over ${transport}, each message once and in order`, async () => {
      const s = await start({ heartbeatMs: 60_000 });
      const ch = connect(s.url, { topics: ["t"], transports: [transport] });
      onCleanup(() => ch.close());
      const got: string[] = [];
      ch.on("message", (m) => got.push(m.id));
      await new Promise<void>((resolve) => ch.on("open", () => resolve()));
      const ids: string[] = [];
      for (let burst = 0; burst < 5; burst++) {
        for (let i = 0; i < 40; i++) ids.push(s.rt.publish("t", { burst, i }));
        await new Promise((r) => setImmediate(r));
      }
      await waitFor(() => got.length >= ids.length, "every message");
      expect(got).toEqual(ids);
      expect(ch.transport).toBe(transport);
    });
  }

  it("writes a message published alone without any timer running (fake clock never advanced)", async () => {
    const clock = new FakeClock();
    const s = await start({ clock, probeDelayMs: 0 });
    const sse = await openSse(`${s.url}/sse?topics=t`);
    const ws = await openWs(`${s.url}/ws?topics=t`);
    await waitFor(() => sse.frames.length >= 1 && ws.frames.length >= 1, "hellos");
    const before = clock.time;
    const id = s.rt.publish("t", "alone");
    await waitFor(() => messages(sse.frames).length === 1 && messages(ws.frames).length === 1, "the lone message");
    expect([messages(sse.frames)[0]!.id, messages(ws.frames)[0]!.id, clock.time]).toEqual([id, id, before]);
  });

  for (const [name, path] of [["SSE", "sse"], ["WebSocket", "ws"]] as const) {
    it(`cuts a ${name} reader that stopped reading with 4408, after an in-order prefix of what was published`, async () => {
      const s = await start({ maxBufferedBytes: 256 * 1024, maxOutboundBytes: 128 * 1024, heartbeatMs: 60_000 });
      const c = path === "sse" ? await openSse(`${s.url}/sse?topics=t`) : await openWs(`${s.url}/ws?topics=t`);
      await waitFor(() => c.frames.length >= 1, "hello");
      const pause = () => ("response" in c ? c.response.pause() : c.ws.pause());
      const resume = () => ("response" in c ? c.response.resume() : c.ws.resume());
      pause();
      const pad = "x".repeat(2_000);
      let n = 0;
      // Bursts of 10 per turn until the server gives the connection up (bounded: 100 MB at most).
      while (s.rt.connectionCount > 0 && n < 50_000) {
        for (let i = 0; i < 10; i++) s.rt.publish("t", { n: n++, pad });
        await new Promise((r) => setImmediate(r));
      }
      expect(s.rt.connectionCount).toBe(0);
      resume();
      await waitFor(() => c.frames.some((f) => f.type === "close"), "the close frame", 20_000);
      expect(c.frames.at(-1)).toMatchObject({ type: "close", code: 4408 });
      const got = messages(c.frames).map((m) => (m.data as { n: number }).n);
      // What was queued before the cut arrives whole and in order; nothing after it.
      expect(got).toEqual([...Array(got.length).keys()]);
      expect(got.length).toBeGreaterThan(0);
    });
  }

  it("property: any publish bursts interleaved with turns reach every client exactly, in order, per its topics", async () => {
    const s = await start({ heartbeatMs: 60_000, history: { size: 100_000 } });
    // Same topics share batches; different topics get batches of their own.
    const clients: Array<{ topics: string[]; c: SseClient | WsClient }> = [];
    for (const topics of [["a"], ["a", "b"], ["b"], ["*"]]) {
      const q = topics.join(",");
      clients.push({ topics, c: await openSse(`${s.url}/sse?topics=${q}`) });
      clients.push({ topics, c: await openWs(`${s.url}/ws?topics=${q}`) });
    }
    await waitFor(() => clients.every(({ c }) => c.frames.length >= 1), "hellos");
    const published: Array<{ topic: string; id: string }> = [];
    const turn = { microtask: () => Promise.resolve(), immediate: () => new Promise<void>((r) => setImmediate(r)), none: () => undefined };
    const burst = fc.record({ topics: fc.array(fc.constantFrom("a", "b"), { maxLength: 20 }), then: fc.constantFrom("microtask", "immediate", "none") });
    await fc.assert(
      fc.asyncProperty(fc.array(burst, { minLength: 1, maxLength: 12 }), async (bursts) => {
        for (const b of bursts) {
          for (const topic of b.topics) published.push({ topic, id: s.rt.publish(topic, { n: published.length }) });
          await turn[b.then as keyof typeof turn]();
        }
        const want = ({ topics }: { topics: string[] }) => published.filter((p) => topics.includes("*") || topics.includes(p.topic)).map((p) => p.id);
        await waitFor(() => clients.every((x) => messages(x.c.frames).length >= want(x).length), "every client caught up");
        for (const x of clients) expect(messages(x.c.frames).map((m) => m.id)).toEqual(want(x));
      }),
      { numRuns: 25 },
    );
    expect(clients.every(({ c }) => !c.frames.some((f) => f.type === "close"))).toBe(true);
  });
});
