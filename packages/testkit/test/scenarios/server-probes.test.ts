/**
 * The server's side of negotiation, on a real server over loopback: the SSE proof probe, the
 * WebSocket probe answer, and long-poll's `connect=1` (a new connection in an existing session).
 */
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { QUERY, ROUTES, buildUrl, createSseFrameDecoder, decodePollBatch, decodeServerFrame, toWebSocketUrl, type ServerFrame } from "@throughline/wire";
import { startTestServer, type TestServer } from "../../src/harness.js";
import { waitFor, within } from "../../src/wait.js";

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function server(options = {}): Promise<TestServer> {
  const s = await startTestServer(options);
  closers.push(() => s.close());
  return s;
}

/** Reads an SSE stream, noting which read (chunk) each frame came in. */
function readSse(url: string) {
  const ac = new AbortController();
  closers.push(() => ac.abort());
  const frames: Array<{ frame: ServerFrame; chunk: number; at: number }> = [];
  let chunk = 0;
  const decoder = createSseFrameDecoder({ onFrame: (frame) => void frames.push({ frame, chunk, at: Date.now() }), onError: () => {} });
  void (async () => {
    const res = await fetch(url, { signal: ac.signal });
    const reader = res.body!.getReader();
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      chunk++;
      decoder.feedBytes(r.value);
    }
  })().catch(() => {});
  return frames;
}

describe("server probes", () => {
  it("writes the SSE proof probe probeDelayMs after the opening write, as a separate delivery", async () => {
    const s = await server({ probeDelayMs: 150 });
    const frames = readSse(buildUrl(s.url, ROUTES.sse));
    await waitFor(() => frames.some((f) => f.frame.type === "probe"), "the probe");
    const hello = frames.find((f) => f.frame.type === "hello")!;
    const probe = frames.find((f) => f.frame.type === "probe")!;
    expect(probe.frame).toMatchObject({ type: "probe", seq: 1 });
    expect(probe.chunk).toBeGreaterThan(hello.chunk);
    const sentGap = (probe.frame as { time: number }).time - (hello.frame as { time: number }).time;
    expect(sentGap).toBeGreaterThanOrEqual(140); // timers may fire a little early, never much
  });

  it("writes no SSE probe with probeDelayMs 0", async () => {
    const s = await server({ probeDelayMs: 0, heartbeatMs: 100 });
    const frames = readSse(buildUrl(s.url, ROUTES.sse));
    await waitFor(() => frames.filter((f) => f.frame.type === "heartbeat").length >= 2, "two heartbeats");
    expect(frames.some((f) => f.frame.type === "probe")).toBe(false);
  });

  it("refuses a probeDelayMs out of range with TL_INVALID_OPTION", async () => {
    await expect(startTestServer({ probeDelayMs: -1 })).rejects.toMatchObject({ code: "TL_INVALID_OPTION" });
  });

  it("answers a WebSocket client's probe on the same socket at once", async () => {
    const s = await server();
    const ws = new WebSocket(toWebSocketUrl(buildUrl(s.url, ROUTES.websocket)));
    closers.push(() => ws.terminate());
    const frames: ServerFrame[] = [];
    ws.on("message", (d) => void frames.push(decodeServerFrame(String(d))));
    await waitFor(() => frames.some((f) => f.type === "hello"), "the hello");
    ws.send(JSON.stringify({ type: "probe", seq: 42 }));
    await waitFor(() => frames.some((f) => f.type === "probe"), "the probe answer");
    expect(frames.find((f) => f.type === "probe")).toMatchObject({ type: "probe", seq: 42 });
    expect(s.received).toEqual([]); // a probe is not an application message
  });
});

describe("long-poll connect=1", () => {
  it("starts a new connection in the same session with a hello at once, answering the old held poll []", async () => {
    const s = await server({ longPollHoldMs: 5_000 });
    const first = decodePollBatch(await (await fetch(buildUrl(s.url, ROUTES.poll))).text());
    const hello = first.find((f) => f.type === "hello") as { session: string; cursor: string };
    // A held continuation poll of the first connection.
    const held = fetch(buildUrl(s.url, ROUTES.poll, { session: hello.session, cursor: hello.cursor })).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 100));
    const id = s.rt.publish("t", "after");
    const again = await within(held, "the held poll to answer the publish", 5_000);
    expect(decodePollBatch(again).map((f) => f.type)).toEqual(["message"]);
    // Reconnect: the first poll of a new connection names the session and the cursor.
    const held2 = fetch(buildUrl(s.url, ROUTES.poll, { session: hello.session, cursor: id })).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 100));
    const fresh = decodePollBatch(await (await fetch(buildUrl(s.url, ROUTES.poll, { session: hello.session, cursor: id, [QUERY.connect]: "1" }))).text());
    expect(fresh[0]).toMatchObject({ type: "hello", session: hello.session, cursor: id });
    expect(await within(held2, "the old held poll", 5_000)).toBe("[]");
  });

  it("answers 404 TL_UNKNOWN_SESSION to connect=1 with an unknown session, so the client starts a new one", async () => {
    const s = await server();
    const res = await fetch(buildUrl(s.url, ROUTES.poll, { session: "s_unknownunknownunknown", [QUERY.connect]: "1" }));
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("TL_UNKNOWN_SESSION");
  });
});
