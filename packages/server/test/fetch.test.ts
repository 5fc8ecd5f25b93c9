/**
 * The Fetch API face (`rt.fetch`) with real `Request`s: answers outside the path, bounded bodies,
 * the WebSocket route without an upgrade API, per-address limits from the runtime's info, an SSE
 * body stream and its cancel, and a held poll whose client aborted.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createSseFrameDecoder, type ServerFrame } from "@throughline/wire";
import { createServer, type ServerOptions } from "@throughline/server";
import { cleanup, onCleanup, waitFor, within } from "./helpers.js";

afterEach(cleanup);

function server(options: ServerOptions = {}) {
  const rt = createServer({ heartbeatMs: 1_000, longPollHoldMs: 20_000, ...options });
  onCleanup(() => rt.close());
  return rt;
}

const at = (path: string, init?: RequestInit) => new Request(`http://localhost${path}`, init);

async function firstFrames(res: Response, count: number): Promise<ServerFrame[]> {
  const frames: ServerFrame[] = [];
  const decoder = createSseFrameDecoder({ onFrame: (f) => frames.push(f), onError: () => {} });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  while (frames.length < count) {
    const step = await within(reader.read(), "SSE bytes");
    if (step.done) break;
    decoder.feed(step.value);
  }
  await reader.cancel();
  return frames;
}

describe("rt.fetch", () => {
  it("answers a plain 404 (no Throughline marker) outside its path", async () => {
    const res = await server().fetch(at("/elsewhere"));
    expect(res.status).toBe(404);
    expect(res.headers.get("x-throughline")).toBeNull();
  });

  it("refuses a send body over maxInboundBytes with 413 TL_PAYLOAD_TOO_LARGE, whether announced or not", async () => {
    const rt = server({ maxInboundBytes: 1024 });
    const poll = await rt.fetch(at("/realtime/poll?topics=t"));
    const { session } = ((await poll.json()) as Array<{ session: string }>)[0]!;
    const big = JSON.stringify({ type: "message", data: "x".repeat(5000) });
    const announced = await rt.fetch(at(`/realtime/send?session=${session}`, { method: "POST", body: big, headers: { "content-length": String(big.length) } }));
    const streamed = await rt.fetch(
      at(`/realtime/send?session=${session}`, {
        method: "POST",
        body: new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(big)), c.close()) }),
        duplex: "half",
      } as RequestInit),
    );
    for (const res of [announced, streamed]) {
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("TL_PAYLOAD_TOO_LARGE");
    }
  });

  it("answers the WebSocket route 426 where the runtime has no upgrade API", async () => {
    const res = await server().fetch(at("/realtime/ws?topics=t", { headers: { upgrade: "websocket", connection: "upgrade" } }));
    expect(res.status).toBe(426);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("TL_UPGRADE_REQUIRED");
  });

  it("counts per-address limits by the address the runtime passes", async () => {
    const rt = server({ maxConnectionsPerAddress: 1 });
    const a1 = await rt.fetch(at("/realtime/sse?topics=t"), { remoteAddress: "10.0.0.1" });
    const a2 = await rt.fetch(at("/realtime/sse?topics=t"), { remoteAddress: "10.0.0.1" });
    const b = await rt.fetch(at("/realtime/sse?topics=t"), { remoteAddress: "10.0.0.2" });
    expect([a1.status, a2.status, b.status]).toEqual([200, 429, 200]);
    await a1.body!.cancel();
    await b.body!.cancel();
  });

  it("streams SSE as a ReadableStream body and lets go of the connection when it is cancelled", async () => {
    const rt = server();
    const res = await rt.fetch(at("/realtime/sse?topics=t"));
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(rt.connectionCount).toBe(1);
    rt.publish("t", "first");
    const frames = await firstFrames(res, 2);
    expect(frames.map((f) => f.type)).toEqual(["hello", "message"]);
    await waitFor(() => rt.connectionCount === 0, "the cancelled stream to be dropped");
  });

  it("settles a held poll whose client aborted, and keeps the queue for the next poll", async () => {
    const rt = server();
    const first = (await (await rt.fetch(at("/realtime/poll?topics=t"))).json()) as Array<{ session: string; cursor: string }>;
    const { session, cursor } = first[0]!;
    const abort = new AbortController();
    const held = rt.fetch(at(`/realtime/poll?session=${session}&cursor=${cursor}`, { signal: abort.signal }));
    await new Promise((r) => setTimeout(r, 20));
    abort.abort();
    expect((await within(held, "the aborted poll to settle")).status).toBe(503);
    rt.publish("t", "kept");
    const next = (await (await rt.fetch(at(`/realtime/poll?session=${session}&cursor=${cursor}`))).json()) as Array<{ type: string; data?: unknown }>;
    expect(next.filter((f) => f.type === "message").map((f) => f.data)).toEqual(["kept"]);
  });
});
