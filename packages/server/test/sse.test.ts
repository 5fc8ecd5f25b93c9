import { afterEach, describe, expect, it } from "vitest";
import { parseId } from "@throughline/wire";
import { cleanup, hello, messages, openSse, start, waitFor, within } from "./helpers.js";

afterEach(cleanup);

describe("SSE transport", () => {
  it("answers with the protocol headers and the marker", async () => {
    const { url } = await start();
    const c = await openSse(`${url}/sse`);
    expect(c.status).toBe(200);
    expect(c.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(c.headers["cache-control"]).toBe("no-cache, no-transform");
    expect(c.headers["x-accel-buffering"]).toBe("no");
    expect(c.headers["x-throughline"]).toBe("1");
    expect(c.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("opens with at least 2048 bytes of padding, then retry and the hello", async () => {
    const { url, rt } = await start({ retryMs: 1234 });
    const c = await openSse(`${url}/sse`);
    await waitFor(() => c.frames.length >= 1, "the hello");
    const text = c.text();
    expect(text.startsWith(`:${" ".repeat(2048)}\n\n`)).toBe(true);
    const afterPadding = text.slice(2048 + 3);
    expect(afterPadding.startsWith("retry: 1234\nevent: tl:hello\ndata: ")).toBe(true);
    const h = hello(c.frames);
    expect(h.transport).toBe("sse");
    expect(h.retryMs).toBe(1234);
    expect(h.cursor).toBe(`${rt.epoch}-0`);
    expect(h.session).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(rt.getSession(h.session)?.transports).toEqual(["sse"]);
  });

  it("streams published messages in order with ids, topics and event names", async () => {
    const { url, rt } = await start();
    const c = await openSse(`${url}/sse`);
    await waitFor(() => c.frames.length >= 1, "the hello");
    const ids = [rt.publish("a", { n: 1 }), rt.publish("b", "two\nlines", { event: "custom" }), rt.publish("a", null), rt.publish("c", undefined)];
    await waitFor(() => messages(c.frames).length === 4, "four messages");
    const got = messages(c.frames);
    expect(got.map((m) => m.id)).toEqual(ids);
    expect(got.map((m) => m.topic)).toEqual(["a", "b", "a", "c"]);
    expect(got.map((m) => m.event)).toEqual(["message", "custom", "message", "message"]);
    expect(got.map((m) => m.data)).toEqual([{ n: 1 }, "two\nlines", null, undefined]);
    expect(ids.map((id) => parseId(id)!.seq)).toEqual([1, 2, 3, 4]);
  });

  it("delivers only the subscribed topics", async () => {
    const { url, rt } = await start();
    const ab = await openSse(`${url}/sse?topics=a,b`);
    const all = await openSse(`${url}/sse?topics=*`);
    await waitFor(() => ab.frames.length >= 1 && all.frames.length >= 1, "both hellos");
    rt.publish("c", 1);
    rt.publish("a", 2);
    rt.publish("b", 3);
    rt.publish("c", 4);
    await waitFor(() => messages(all.frames).length === 4, "all four on the wildcard stream");
    // The last message for `ab` was published before the wildcard's last: it has arrived by now or soon.
    await waitFor(() => messages(ab.frames).length >= 2, "two on the filtered stream");
    expect(messages(ab.frames).map((m) => m.data)).toEqual([2, 3]);
  });

  it("writes heartbeat comments on the shared ticker", async () => {
    const { url } = await start({ heartbeatMs: 50 });
    const c = await openSse(`${url}/sse`);
    await waitFor(() => c.frames.filter((f) => f.type === "heartbeat").length >= 2, "two heartbeats");
    const hb = c.frames.find((f) => f.type === "heartbeat");
    expect(hb).toMatchObject({ type: "heartbeat", time: expect.any(Number) });
  });

  it("rejects a bad topic with 400 TL_BAD_TOPIC before streaming", async () => {
    const { url } = await start();
    const c = await openSse(`${url}/sse?topics=ok,bad%20topic`);
    expect(c.status).toBe(400);
    expect(c.headers["x-throughline"]).toBe("1");
    await c.ended;
    expect(JSON.parse(c.text())).toMatchObject({ error: { code: "TL_BAD_TOPIC" } });
  });

  it("answers an unknown session with 404 TL_UNKNOWN_SESSION", async () => {
    const { url } = await start();
    const c = await openSse(`${url}/sse?session=nosuchsession`);
    expect(c.status).toBe(404);
    await c.ended;
    expect(JSON.parse(c.text())).toMatchObject({ error: { code: "TL_UNKNOWN_SESSION" } });
  });

  it("drops the connection when the client goes away, and the session expires after its TTL", async () => {
    const { url, rt } = await start({ sessionTtlMs: 100 });
    const c = await openSse(`${url}/sse`);
    await waitFor(() => c.frames.length >= 1, "the hello");
    expect(rt.connectionCount).toBe(1);
    const ended: string[] = [];
    rt.on("sessionEnd", (s) => ended.push(s.id));
    c.close();
    await waitFor(() => rt.connectionCount === 0, "the connection to go");
    await waitFor(() => rt.sessionCount === 0, "the session to expire");
    expect(ended).toEqual([hello(c.frames).session]);
  });

  it("closes a reader that stops reading with 4408 TOO_SLOW", async () => {
    const { url, rt } = await start({ maxBufferedBytes: 256 * 1024, maxOutboundBytes: 128 * 1024 });
    const c = await openSse(`${url}/sse`);
    await waitFor(() => c.frames.length >= 1, "the hello");
    c.response.pause();
    const chunk = "x".repeat(60_000);
    await within(
      (async () => {
        // Kernel buffers absorb a few MB on loopback; keep publishing until the server gives up.
        for (let i = 0; i < 5_000 && rt.connectionCount > 0; i++) {
          rt.publish("flood", chunk);
          if (i % 20 === 0) await new Promise((r) => setImmediate(r));
        }
      })(),
      "the flood",
    );
    expect(rt.connectionCount).toBe(0);
    c.response.resume();
    await within(c.ended, "the stream to end", 20_000);
    const last = c.frames[c.frames.length - 1];
    expect(last).toMatchObject({ type: "close", code: 4408 });
  });
});
