/**
 * SSE, long-poll and the send route over node:http2 with TLS (a self-signed certificate made for
 * the test), many streams on one connection, HTTP/2's forbidden connection headers, per-stream
 * flow control with a stalled reader, and HTTP/1.1 on the same port.
 */
import { connect, type ClientHttp2Session, type ClientHttp2Stream } from "node:http2";
import { request as httpsRequest } from "node:https";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createSseFrameDecoder, type ServerFrame } from "@throughline/wire";
import { createServer, listenHttp2, type ServerOptions } from "@throughline/server";
import { selfSignedCertificate, type TestCertificate } from "@throughline/testkit";
import { cleanup, hello, messages, onCleanup, waitFor, within } from "./helpers.js";

let tls: TestCertificate;
beforeAll(() => {
  tls = selfSignedCertificate();
});
afterEach(cleanup);

async function start(options: ServerOptions = {}) {
  const rt = createServer({ heartbeatMs: 1_000, longPollHoldMs: 500, ...options });
  const sessions: unknown[] = [];
  const l = await listenHttp2(rt, { key: tls.key, cert: tls.cert, host: "127.0.0.1" });
  l.server.on("session", (s) => sessions.push(s));
  onCleanup(() => rt.close());
  const client = connect(`https://127.0.0.1:${l.port}`, { ca: tls.cert, servername: "localhost" });
  client.on("error", () => {});
  onCleanup(() => void client.destroy());
  return { rt, port: l.port, client, sessions, url: l.url };
}

interface Stream {
  readonly stream: ClientHttp2Stream;
  readonly frames: ServerFrame[];
  status: number;
  headers: Record<string, unknown>;
}

function sse(client: ClientHttp2Session, path: string): Stream {
  const stream = client.request({ ":path": path, accept: "text/event-stream" });
  const out: Stream = { stream, frames: [], status: 0, headers: {} };
  const decoder = createSseFrameDecoder({ onFrame: (f) => out.frames.push(f), onError: () => {} });
  stream.on("response", (h) => {
    out.status = Number(h[":status"]);
    out.headers = h;
  });
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => decoder.feed(chunk));
  stream.on("error", () => {});
  return out;
}

function fetchH2(client: ClientHttp2Session, path: string, method = "GET", body?: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return within(
    new Promise((resolve, reject) => {
      const stream = client.request({ ":path": path, ":method": method, ...(body ? { "content-type": "application/json" } : {}) });
      let status = 0;
      let headers: Record<string, unknown> = {};
      let text = "";
      stream.on("response", (h) => {
        status = Number(h[":status"]);
        headers = h;
      });
      stream.setEncoding("utf8");
      stream.on("data", (c: string) => (text += c));
      stream.on("end", () => resolve({ status, headers, body: text }));
      stream.on("error", reject);
      stream.end(body);
    }),
    `${method} ${path} over HTTP/2`,
  );
}

describe("HTTP/2 (node:http2, TLS)", () => {
  it("serves ten SSE streams on one connection, each with its hello and every message", async () => {
    const { rt, client, sessions } = await start();
    const streams = Array.from({ length: 10 }, () => sse(client, "/realtime/sse?topics=t"));
    await waitFor(() => streams.every((s) => s.frames.length >= 1), "ten hellos");
    for (const s of streams) {
      expect(s.status).toBe(200);
      expect(s.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
      expect(hello(s.frames).transport).toBe("sse");
    }
    rt.publish("t", "one");
    rt.publish("t", { two: 2 });
    await waitFor(() => streams.every((s) => messages(s.frames).length === 2), "both messages on every stream");
    expect(streams.map((s) => messages(s.frames).map((m) => m.data))).toEqual(Array.from({ length: 10 }, () => ["one", { two: 2 }]));
    expect(sessions).toHaveLength(1);
    expect(rt.connectionCount).toBe(10);
  });

  it("serves long-poll and the send route, the message reaching on('message')", async () => {
    const { rt, client } = await start();
    const got: unknown[] = [];
    rt.on("message", (data) => got.push(data));
    const first = await fetchH2(client, "/realtime/poll?topics=t");
    expect(first.status).toBe(200);
    const h = hello(JSON.parse(first.body) as ServerFrame[]);
    expect(h.transport).toBe("long-poll");
    const held = fetchH2(client, `/realtime/poll?session=${h.session}&cursor=${h.cursor}`);
    rt.publish("t", "polled");
    const next = await held;
    expect(messages(JSON.parse(next.body) as ServerFrame[]).map((m) => m.data)).toEqual(["polled"]);
    const sent = await fetchH2(client, `/realtime/send?session=${h.session}`, "POST", JSON.stringify({ type: "message", data: "up" }));
    expect(sent.status).toBe(204);
    await waitFor(() => got.length === 1, "the message");
    expect(got).toEqual(["up"]);
  });

  it("answers the WebSocket route with 426 and no connection-specific headers (HTTP/2 forbids them)", async () => {
    const { client } = await start();
    const res = await fetchH2(client, "/realtime/ws");
    expect(res.status).toBe(426);
    expect(JSON.parse(res.body).error.code).toBe("TL_UPGRADE_REQUIRED");
    expect(res.headers.upgrade).toBeUndefined();
    expect(res.headers.connection).toBeUndefined();
  });

  it("closes a stream whose reader stalled (its flow-control window full) while the others keep flowing", async () => {
    const { rt, client } = await start({ maxBufferedBytes: 256 * 1024, maxOutboundBytes: 64 * 1024, probeDelayMs: 0 });
    // Like browsers (Chromium: 15 MB), a connection window far above one stream's (64 KB): a
    // stalled stream then fills only its own window. Node's client default (64 KB for the whole
    // connection) would let one stalled stream starve the others, whatever the server does.
    if (!client.connecting) client.setLocalWindowSize(16 * 1024 * 1024);
    else await new Promise<void>((r) => client.once("connect", () => r(client.setLocalWindowSize(16 * 1024 * 1024))));
    const stalled = sse(client, "/realtime/sse?topics=t");
    const healthy = sse(client, "/realtime/sse?topics=t");
    await waitFor(() => stalled.frames.length >= 1 && healthy.frames.length >= 1, "both hellos");
    stalled.stream.pause();
    const chunk = "x".repeat(16 * 1024);
    const total = 60; // ~1 MB: far beyond the stalled stream's window plus maxBufferedBytes
    for (let i = 1; i <= total; i++) {
      rt.publish("t", chunk);
      // Paced by the healthy reader, so only the stalled stream falls behind.
      await waitFor(() => messages(healthy.frames).length === i, `message ${i} on the healthy stream`);
    }
    await waitFor(() => rt.connectionCount === 1, "the stalled stream to be closed");
    expect(healthy.frames.some((f) => f.type === "close")).toBe(false);
  });

  it("serves HTTP/1.1 clients on the same port (allowHTTP1)", async () => {
    const { port } = await start();
    const res = await within(
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpsRequest({ host: "127.0.0.1", port, path: "/realtime/poll?topics=t", ca: tls.cert, servername: "localhost", agent: false }, (r) => {
          let body = "";
          r.setEncoding("utf8");
          r.on("data", (c: string) => (body += c));
          r.on("end", () => resolve({ status: r.statusCode ?? 0, body }));
        });
        req.on("error", reject);
        req.end();
      }),
      "an HTTP/1.1 poll",
    );
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)[0]).toMatchObject({ type: "hello", transport: "long-poll" });
  });
});
