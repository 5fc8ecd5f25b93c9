import { afterEach, describe, expect, it } from "vitest";
import { CloseCode, ThroughlineError } from "@throughline/wire";
import { DEFAULT_HISTORY_OPTIONS, DEFAULT_SERVER_OPTIONS, createServer, type ServerOptions } from "@throughline/server";
import { cleanup, heldPoll, hello, messages, onCleanup, openSse, openWs, poll, start, waitFor, within } from "./helpers.js";

afterEach(cleanup);

function server(options?: ServerOptions) {
  const rt = createServer(options);
  onCleanup(() => rt.close());
  return rt;
}

describe("options", () => {
  it("exports frozen defaults", () => {
    expect(Object.isFrozen(DEFAULT_SERVER_OPTIONS)).toBe(true);
    expect(Object.isFrozen(DEFAULT_SERVER_OPTIONS.transports)).toBe(true);
    expect(Object.isFrozen(DEFAULT_HISTORY_OPTIONS)).toBe(true);
    expect(DEFAULT_SERVER_OPTIONS).toMatchObject({ path: "/realtime", heartbeatMs: 15_000, retryMs: 2_000, paddingBytes: 2_048, sessionTtlMs: 60_000 });
    expect(server().path).toBe("/realtime");
  });

  it.each([
    ["path", { path: "realtime" }],
    ["path", { path: "/a b" }],
    ["path", { path: "/a/../b" }],
    ["transports", { transports: [] }],
    ["transports", { transports: ["sse", "sse"] }],
    ["transports", { transports: ["carrier-pigeon"] }],
    ["heartbeatMs", { heartbeatMs: 0 }],
    ["heartbeatMs", { heartbeatMs: 2 ** 31 }],
    ["retryMs", { retryMs: -1 }],
    ["longPollHoldMs", { longPollHoldMs: 1.5 }],
    ["history.size", { history: { size: 0 } }],
    ["history.maxAgeMs", { history: { maxAgeMs: -5 } }],
    ["sessionTtlMs", { sessionTtlMs: Number.NaN }],
    ["maxInboundBytes", { maxInboundBytes: "64k" }],
    ["maxOutboundBytes", { maxOutboundBytes: 2_000_000, maxBufferedBytes: 1_000_000 }],
    ["epoch", { epoch: "Not-An-Epoch" }],
    ["onMessage", { onMessage: 42 }],
    ["clock", { clock: { now: () => 0 } }],
  ])("rejects a bad %s with TL_INVALID_OPTION naming it", (name, options) => {
    let err: unknown;
    try {
      createServer(options as ServerOptions);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ThroughlineError);
    expect(err).toMatchObject({ code: "TL_INVALID_OPTION" });
    expect((err as Error).message).toContain(`\`${name}\``);
  });
});

describe("publish", () => {
  it("returns increasing ids of the server's epoch", () => {
    const rt = server({ epoch: "abc123" });
    expect(rt.epoch).toBe("abc123");
    expect([rt.publish("t", 1), rt.publish("u", 2)]).toEqual(["abc123-1", "abc123-2"]);
  });

  it("publishAsync without a backplane resolves with the next id at once, and rejects bad input", async () => {
    const rt = server({ epoch: "abc123" });
    await rt.ready;
    expect(await rt.publishAsync("t", 1)).toBe("abc123-1");
    expect(rt.publish("t", 2)).toBe("abc123-2");
    await expect(rt.publishAsync("a b", 1)).rejects.toMatchObject({ code: "TL_BAD_TOPIC" });
    expect(await rt.publishAsync("t", 3)).toBe("abc123-3");
  });

  it.each([
    ["TL_BAD_TOPIC", () => ["", 1]],
    ["TL_BAD_TOPIC", () => ["a b", 1]],
    ["TL_BAD_TOPIC", () => ["*", 1]],
    ["TL_BAD_EVENT", () => ["t", 1, { event: "open" }]],
    ["TL_BAD_EVENT", () => ["t", 1, { event: "tl:hello" }]],
    ["TL_BAD_EVENT", () => ["t", 1, { event: "a\nb" }]],
    ["TL_BAD_DATA", () => ["t", 10n]],
    ["TL_BAD_DATA", () => ["t", () => 1]],
    ["TL_BAD_DATA", () => { const o: Record<string, unknown> = {}; o.self = o; return ["t", o]; }],
    ["TL_MESSAGE_TOO_BIG", () => ["t", "é".repeat(600)]],
  ] as const)("throws %s for bad input without consuming a sequence number", (code, args) => {
    const rt = server({ maxOutboundBytes: 1024, epoch: "e" });
    const [topic, data, opts] = args() as unknown as [string, unknown, { event?: string }?];
    expect(() => rt.publish(topic, data, opts)).toThrowError(expect.objectContaining({ code }));
    expect(rt.publish("t", "ok")).toBe("e-1");
  });
});

describe("events, sessions and close()", () => {
  it("emits session and sessionEnd, and unsubscribes", async () => {
    const { url, rt } = await start();
    const started: string[] = [];
    const ended: string[] = [];
    const off = rt.on("session", (s) => started.push(s.id));
    rt.on("sessionEnd", (s) => ended.push(s.id));
    const c = await openSse(`${url}/sse`);
    await waitFor(() => c.frames.length >= 1, "the hello");
    const id = hello(c.frames).session;
    expect(started).toEqual([id]);
    expect(rt.sessionCount).toBe(1);
    off();
    await openSse(`${url}/sse`);
    expect(started).toEqual([id]);
    rt.getSession(id)!.close();
    expect(ended).toEqual([id]);
    expect(rt.getSession(id)).toBeUndefined();
    expect(() => rt.on("nope" as "session", () => {})).toThrowError(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
  });

  it("close() sends 1001 GOING_AWAY on every transport and is idempotent", async () => {
    const { url, rt } = await start({ longPollHoldMs: 20_000 });
    const sse = await openSse(`${url}/sse`);
    const ws = await openWs(`${url}/ws`);
    const lpHello = hello((await poll(url)).frames);
    const idle = hello((await poll(url)).frames); // a long-poll session between polls
    const held = poll(url, { session: lpHello.session, cursor: lpHello.cursor });
    await waitFor(() => sse.frames.length >= 1 && ws.frames.length >= 1, "the hellos");
    await waitFor(() => heldPoll(rt, lpHello.session) === true, "the held poll");

    await within(Promise.all([rt.close(), rt.close()]), "close()");
    await rt.close();

    await within(sse.ended, "the SSE stream to end");
    expect(sse.frames[sse.frames.length - 1]).toMatchObject({ type: "close", code: CloseCode.GOING_AWAY });
    const wsClosed = await within(ws.closedPromise, "the WebSocket close");
    expect(wsClosed.code).toBe(1001);
    expect(ws.frames[ws.frames.length - 1]).toMatchObject({ type: "close", code: 1001 });
    expect((await within(held, "the held poll")).frames).toEqual([expect.objectContaining({ type: "close", code: 1001 })]);
    expect(rt.connectionCount).toBe(0);
    expect(rt.sessionCount).toBe(0);
    await expect(rt.listen(0, "127.0.0.1")).rejects.toMatchObject({ code: "TL_SERVER_CLOSING" });
    // The listen()-created server is closed too.
    await expect(poll(url, { session: idle.session, cursor: idle.cursor })).rejects.toThrow();
  });

  it("a long-poll session idle at close() gets its close frame on its next poll (attached server)", async () => {
    const { createServer: createHttp } = await import("node:http");
    const http = createHttp();
    const rt = createServer({ longPollHoldMs: 20_000 }).attach(http);
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    onCleanup(
      () =>
        new Promise<void>((r) => {
          http.close(() => r());
          http.closeAllConnections();
        }),
    );
    const url = `http://127.0.0.1:${(http.address() as { port: number }).port}/realtime`;
    const h = hello((await poll(url)).frames);
    rt.publish("t", "unacked");
    await rt.close();
    const r = await poll(url, { session: h.session, cursor: h.cursor });
    expect(r.frames.map((f) => f.type)).toEqual(["message", "close"]);
    expect(r.frames[1]).toMatchObject({ code: 1001 });
    expect(messages(r.frames)[0]!.data).toBe("unacked");
    const again = await poll(url, { session: h.session });
    expect(again.status).toBe(503);
  });
});
