// The load clients' WebSocket client (clients/lean-ws.mjs) against real servers on loopback: a
// `ws` server (frame lengths of every header size, fragments, ping, close, masked sends) and
// Throughline's server through clients/ws.mjs (hello, probe answer, a published message).
import { createServer } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { LeanWebSocket } from "../clients/lean-ws.mjs";
import { openWs } from "../clients/ws.mjs";

const cleanups = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A `ws` server on 127.0.0.1:0; `onConnection(socket)` per client. */
async function wsServer(onConnection) {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await new Promise((r) => wss.once("listening", r));
  wss.on("connection", onConnection);
  cleanups.push(() => new Promise((r) => { for (const c of wss.clients) c.terminate(); wss.close(() => r()); }));
  return `ws://127.0.0.1:${wss.address().port}/path?x=1`;
}

const until = (pred, ms = 5_000) =>
  new Promise((resolve, reject) => {
    const end = Date.now() + ms;
    const tick = () => (pred() ? resolve() : Date.now() > end ? reject(new Error("timed out")) : setTimeout(tick, 5));
    tick();
  });

describe("LeanWebSocket", () => {
  it("reads text frames of every length encoding and fragmented messages, in order", async () => {
    const big = "b".repeat(70_000);
    const mid = "m".repeat(300);
    const url = await wsServer((ws) => {
      ws.send("short");
      ws.send(mid);
      ws.send(big);
      ws.send("frag-", { fin: false });
      ws.send("ment", { fin: true });
      ws.send(Buffer.from("é✓"), { binary: false });
    });
    const ws = new LeanWebSocket(url);
    const got = [];
    ws.on("message", (b) => got.push(b.toString()));
    await until(() => got.length === 5);
    expect(got.map((s) => s.length)).toEqual([5, 300, 70_000, 9, 2]);
    expect(got[1] === mid && got[2] === big).toBe(true);
    expect([got[0], got[3], got[4]]).toEqual(["short", "frag-ment", "é✓"]);
    ws.terminate();
  });

  it("sends masked text frames the server reads, answers pings, and reports the server's close", async () => {
    let server;
    const received = [];
    let pongs = 0;
    const url = await wsServer((ws) => {
      server = ws;
      ws.on("message", (d) => received.push(d.toString()));
      ws.on("pong", () => pongs++);
    });
    const ws = new LeanWebSocket(url);
    await new Promise((r) => ws.once("open", r));
    expect(ws.readyState).toBe(LeanWebSocket.OPEN);
    ws.send("hello");
    ws.send("x".repeat(200));
    await until(() => received.length === 2 && server !== undefined);
    expect(received).toEqual(["hello", "x".repeat(200)]);
    server.ping();
    await until(() => pongs === 1);
    const closed = new Promise((r) => ws.once("close", r));
    server.close(1000, "bye");
    await closed;
    expect(ws.readyState).toBe(3);
  });

  it("fails a refused upgrade with an error and a close", async () => {
    const http = createServer((_req, res) => res.writeHead(404).end());
    await new Promise((r) => http.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => http.close(() => r())));
    const ws = new LeanWebSocket(`ws://127.0.0.1:${http.address().port}/`);
    const err = await new Promise((r) => ws.once("error", r));
    expect(String(err)).toMatch(/upgrade refused: HTTP\/1\.1 404/);
    await new Promise((r) => ws.once("close", r));
  });

  it("subscribes to Throughline's server as the load client does (hello, then a published message)", async () => {
    const { createServer: createThroughline } = await import("@throughline/server");
    const rt = createThroughline();
    await rt.ready;
    const http = createServer();
    rt.attach(http);
    await new Promise((r) => http.listen(0, "127.0.0.1", r));
    cleanups.push(async () => {
      await rt.close();
      await new Promise((r) => http.close(() => r()));
    });
    const texts = [];
    const conn = await openWs("throughline", `ws://127.0.0.1:${http.address().port}/realtime/ws?topics=bench`, (t) => texts.push(t), () => {});
    rt.publish("bench", { s: 1, t: 2, p: "x" });
    await until(() => texts.length === 1);
    expect(JSON.parse(texts[0])).toMatchObject({ type: "message", topic: "bench", data: { s: 1, t: 2, p: "x" } });
    conn.close();
  });
});
