import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { cleanup, hello, httpRequest, messages, onCleanup, openWs, sleep, start, waitFor, within } from "./helpers.js";

afterEach(cleanup);

describe("WebSocket transport", () => {
  it("upgrades with the marker header and starts with the hello", async () => {
    const { url, rt } = await start({ heartbeatMs: 5_000, retryMs: 77 });
    const c = await openWs(`${url}/ws`);
    expect(c.upgradeHeaders["x-throughline"]).toBe("1");
    await waitFor(() => c.frames.length >= 1, "the hello");
    const h = hello(c.frames);
    expect(h).toMatchObject({ transport: "websocket", heartbeatMs: 5_000, retryMs: 77, cursor: `${rt.epoch}-0` });
    expect(rt.getSession(h.session)?.transports).toEqual(["websocket"]);
    expect(rt.connectionCount).toBe(1);
  });

  it("sends published messages of its topics as JSON frames, in order", async () => {
    const { url, rt } = await start();
    const c = await openWs(`${url}/ws?topics=x,y`);
    await waitFor(() => c.frames.length >= 1, "the hello");
    const ids = [rt.publish("x", 1), rt.publish("z", "not mine"), rt.publish("y", { two: 2 }, { event: "ev" })];
    await waitFor(() => messages(c.frames).length >= 2, "two messages");
    await sleep(30);
    expect(messages(c.frames)).toEqual([
      { type: "message", id: ids[0], topic: "x", event: "message", data: 1 },
      { type: "message", id: ids[2], topic: "y", event: "ev", data: { two: 2 } },
    ]);
  });

  it("passes client→server messages to onMessage and to message listeners", async () => {
    const fromOption: unknown[] = [];
    const { url, rt } = await start({ onMessage: (data) => void fromOption.push(data) });
    const fromOn: Array<[unknown, string]> = [];
    rt.on("message", (data, session) => fromOn.push([data, session.id]));
    const c = await openWs(`${url}/ws`);
    await waitFor(() => c.frames.length >= 1, "the hello");
    c.send({ type: "message", data: { hi: "ünï" } });
    c.send([{ type: "heartbeat", time: 1 }, { type: "message", data: 2 }, { type: "probe", seq: 1 }]);
    await waitFor(() => fromOn.length === 2, "two messages");
    expect(fromOption).toEqual([{ hi: "ünï" }, 2]);
    expect(fromOn).toEqual([
      [{ hi: "ünï" }, hello(c.frames).session],
      [2, hello(c.frames).session],
    ]);
  });

  it("ignores a malformed client frame and keeps the connection working", async () => {
    const got: unknown[] = [];
    const { url, rt } = await start({ onMessage: (d) => void got.push(d) });
    const c = await openWs(`${url}/ws`);
    await waitFor(() => c.frames.length >= 1, "the hello");
    c.send("{not json");
    c.send({ type: "nonsense" });
    c.ws.send(Buffer.from([0xff, 0x00]), { binary: true });
    c.send({ type: "message", data: "after" });
    await waitFor(() => got.length === 1, "the good message");
    expect(got).toEqual(["after"]);
    const id = rt.publish("t", "still streaming");
    await waitFor(() => messages(c.frames).length === 1, "a message after the bad frames");
    expect(messages(c.frames)[0]!.id).toBe(id);
    expect(c.closed).toBeUndefined();
  });

  it("survives an application handler that throws or rejects", async () => {
    const { url, rt } = await start({
      onMessage: () => {
        throw new Error("app bug");
      },
    });
    const got: unknown[] = [];
    rt.on("message", () => Promise.reject(new Error("async app bug")) as unknown as void);
    rt.on("message", (d) => void got.push(d));
    const c = await openWs(`${url}/ws`);
    await waitFor(() => c.frames.length >= 1, "the hello");
    c.send({ type: "message", data: 1 });
    c.send({ type: "message", data: 2 });
    await waitFor(() => got.length === 2, "both messages");
    expect(c.closed).toBeUndefined();
  });

  it("closes with 1009 when a client message exceeds maxInboundBytes", async () => {
    const { url, rt } = await start({ maxInboundBytes: 1024 });
    const c = await openWs(`${url}/ws`);
    await waitFor(() => c.frames.length >= 1, "the hello");
    c.send({ type: "message", data: "x".repeat(2048) });
    const closed = await within(c.closedPromise, "the close");
    expect(closed.code).toBe(1009);
    await waitFor(() => rt.connectionCount === 0, "the server to drop it");
  });

  it("closes an unknown session with a close frame and 4404", async () => {
    const { url } = await start();
    const c = await openWs(`${url}/ws?session=doesnotexist`);
    const closed = await within(c.closedPromise, "the close");
    expect(closed.code).toBe(4404);
    expect(c.frames).toEqual([expect.objectContaining({ type: "close", code: 4404 })]);
  });

  it("closes a bad topic list with 4400", async () => {
    const { url } = await start();
    const c = await openWs(`${url}/ws?topics=a,,b`);
    const closed = await within(c.closedPromise, "the close");
    expect(closed.code).toBe(4400);
  });

  it("ends the session on a client close frame, with close 1000", async () => {
    const { url, rt } = await start();
    const c = await openWs(`${url}/ws`);
    await waitFor(() => c.frames.length >= 1, "the hello");
    c.send({ type: "close" });
    const closed = await within(c.closedPromise, "the close");
    expect(closed.code).toBe(1000);
    await waitFor(() => rt.sessionCount === 0, "the session to end");
  });

  it("sends heartbeat frames with the server time", async () => {
    const { url } = await start({ heartbeatMs: 50 });
    const c = await openWs(`${url}/ws`);
    await waitFor(() => c.frames.filter((f) => f.type === "heartbeat").length >= 2, "two heartbeats");
  });

  it("pings a client that sends nothing right after every heartbeat frame (one write per tick where the socket takes raw frames)", async () => {
    const { url, rt } = await start({ heartbeatMs: 50 });
    const c = await openWs(`${url}/ws?topics=t`);
    // What the client saw, in order: frame types and pings.
    const seen: string[] = [];
    c.ws.on("message", (d) => seen.push(JSON.parse(String(d)).type));
    c.ws.on("ping", () => seen.push("ping"));
    rt.publish("t", 1);
    await waitFor(() => seen.filter((x) => x === "ping").length >= 3, "three pings");
    const beats = seen.filter((x) => x === "heartbeat").length;
    expect(beats).toBeGreaterThanOrEqual(3);
    // Each heartbeat is followed by its ping, before anything else.
    seen.forEach((x, i) => {
      if (x === "heartbeat" && i + 1 < seen.length) expect(seen[i + 1]).toBe("ping");
    });
    expect(seen.indexOf("message")).toBeLessThan(seen.indexOf("heartbeat"));
  });

  it("Session.close() closes the socket with the code and reason after a close frame", async () => {
    const { url, rt } = await start();
    const c = await openWs(`${url}/ws`);
    await waitFor(() => c.frames.length >= 1, "the hello");
    rt.getSession(hello(c.frames).session)!.close(4403, "go away");
    const closed = await within(c.closedPromise, "the close");
    expect(closed).toEqual({ code: 4403, reason: "go away" });
    expect(c.frames[c.frames.length - 1]).toEqual({ type: "close", code: 4403, reason: "go away" });
    expect(rt.sessionCount).toBe(0);
  });

  it("joins an existing session (transport switch) and delivers to both connections", async () => {
    const { url, rt } = await start();
    const a = await openWs(`${url}/ws`);
    await waitFor(() => a.frames.length >= 1, "the first hello");
    const session = hello(a.frames).session;
    const b = await openWs(`${url}/ws?session=${session}`);
    await waitFor(() => b.frames.length >= 1, "the second hello");
    expect(hello(b.frames).session).toBe(session);
    expect(rt.getSession(session)!.transports).toEqual(["websocket", "websocket"]);
    rt.publish("t", 1);
    await waitFor(() => messages(a.frames).length === 1 && messages(b.frames).length === 1, "both deliveries");
  });

  it("refuses upgrades on other routes with a marked 404, and GET /ws without upgrade with 426", async () => {
    const { url } = await start();
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/nope`);
    onCleanup(() => ws.terminate());
    const status = await within(
      new Promise<{ code: number | undefined; marker: unknown }>((resolve) => {
        ws.on("unexpected-response", (_req, res) => resolve({ code: res.statusCode, marker: res.headers["x-throughline"] }));
        ws.on("error", () => {});
      }),
      "the refusal",
    );
    expect(status).toEqual({ code: 404, marker: "1" });
    const plain = await httpRequest(`${url}/ws`);
    expect(plain.status).toBe(426);
    expect(plain.headers["x-throughline"]).toBe("1");
    expect(JSON.parse(plain.body)).toMatchObject({ error: { code: "TL_UPGRADE_REQUIRED" } });
  });
});

describe("WebSocket slow consumers", () => {
  it("closes a client that stops reading with 4408 TOO_SLOW", async () => {
    const { url, rt } = await start({ maxBufferedBytes: 256 * 1024, maxOutboundBytes: 128 * 1024 });
    const c = await openWs(`${url}/ws`);
    await waitFor(() => c.frames.length >= 1, "the hello");
    c.ws.pause();
    const chunk = "x".repeat(60_000);
    await within(
      (async () => {
        for (let i = 0; i < 5_000 && rt.connectionCount > 0; i++) {
          rt.publish("flood", chunk);
          if (i % 20 === 0) await new Promise((r) => setImmediate(r));
        }
      })(),
      "the flood",
    );
    expect(rt.connectionCount).toBe(0);
    c.ws.resume();
    const closed = await within(c.closedPromise, "the close", 20_000);
    expect(closed.code).toBe(4408);
  });
});
