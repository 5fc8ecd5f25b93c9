/**
 * node:http's parser under an SSE stream (adapters/node-parser.ts): freed while the stream is
 * open, renewed when it ends, with everything node:http does for the connection kept: keep-alive
 * after the stream, requests the client sent meanwhile, disconnects, half-closes. Raw TCP
 * clients, so the bytes on the connection are exactly what a test sends.
 */
import { createServer as createHttpServer, type IncomingMessage } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { createServer, listenHttp2 } from "@throughline/server";
import { selfSignedCertificate } from "@throughline/testkit";
import { HELD_BYTES } from "../src/adapters/node-parser.js";
import { cleanup, onCleanup, waitFor } from "./helpers.js";

afterEach(cleanup);

/** Throughline attached to a plain node:http server whose own handler answers "next <path>". */
async function attached(options: Parameters<typeof createServer>[0] = {}) {
  const rt = createServer(options);
  const http = createHttpServer((req, res) => res.end(`next ${req.url}`));
  const requests: IncomingMessage[] = [];
  rt.attach(http);
  // After attach, which takes over the 'request' listeners present then.
  http.prependListener("request", (req: IncomingMessage) => void requests.push(req));
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  onCleanup(async () => {
    await rt.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });
  return { rt, http, requests, port: (http.address() as AddressInfo).port };
}

/** A raw TCP (or TLS, HTTP/1.1) client collecting what the server sends. */
async function raw(port: number, ca?: string) {
  const socket = ca ? tlsConnect({ port, host: "127.0.0.1", ca, servername: "localhost", ALPNProtocols: ["http/1.1"] }) : connect(port, "127.0.0.1");
  await new Promise((resolve, reject) => socket.once(ca ? "secureConnect" : "connect", resolve).once("error", reject));
  socket.on("error", () => {});
  const c = { socket, text: "", closed: false };
  socket.setEncoding("latin1");
  socket.on("data", (d: string) => (c.text += d));
  socket.on("close", () => (c.closed = true));
  onCleanup(() => void socket.destroy());
  return c;
}

const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

/** Opens a stream on `c` and waits until its parser is released; returns the session id and the server's socket. */
async function openStream(s: { requests: IncomingMessage[] }, c: Awaited<ReturnType<typeof raw>>, extra = "") {
  const from = c.text.length;
  c.socket.write(get("/realtime/sse", extra));
  await waitFor(() => c.text.includes("tl:hello", from), "the hello");
  const req = s.requests.at(-1)!;
  const socket = req.socket as Socket & { parser?: unknown };
  await waitFor(() => socket.parser === null, "the parser released");
  const session = /"session":"([^"]+)"/.exec(c.text.slice(from))![1]!;
  return { req, socket, session };
}

describe("node:http parser under an SSE stream", () => {
  it("is freed while the stream is open, and the connection serves the next request after the stream ends (keep-alive)", async () => {
    const s = await attached();
    const c = await raw(s.port);
    const { socket, session } = await openStream(s, c);
    s.rt.getSession(session)!.close();
    await waitFor(() => c.text.includes("\r\n0\r\n\r\n"), "the end of the stream");
    c.socket.write(get("/after"));
    await waitFor(() => c.text.includes("next /after"), "the next answer on the same connection");
    expect(c.closed).toBe(false);
    expect(socket.parser).not.toBeNull();
    expect(s.requests.length).toBe(2);
    // And again: a second stream on the reused connection is released and renewed the same way.
    const again = await openStream(s, c);
    expect(again.socket).toBe(socket);
    s.rt.getSession(again.session)!.close();
    c.socket.write(get("/third"));
    await waitFor(() => c.text.includes("next /third"), "the third answer");
  });

  it("stays with the connection under `releaseHttpParser: false`, and a non-boolean is refused", async () => {
    const s = await attached({ releaseHttpParser: false });
    const c = await raw(s.port);
    c.socket.write(get("/realtime/sse"));
    await waitFor(() => c.text.includes("tl:hello"), "the hello");
    const socket = s.requests.at(-1)!.socket as Socket & { parser?: unknown };
    // The release runs on the next check phase (setImmediate): let several pass.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(socket.parser).not.toBeNull();
    expect(socket.parser).toBeDefined();
    expect(() => createServer({ releaseHttpParser: "no" as unknown as boolean })).toThrow(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
  });

  it("works the same for HTTP/1.1 over TLS on the HTTP/2 server (allowHTTP1)", async () => {
    const tls = selfSignedCertificate();
    const rt = createServer();
    const l = await listenHttp2(rt, { key: tls.key, cert: tls.cert, host: "127.0.0.1" });
    onCleanup(() => rt.close());
    const requests: IncomingMessage[] = [];
    l.server.prependListener("request", (req) => void requests.push(req as unknown as IncomingMessage));
    const c = await raw(l.port, tls.cert);
    const { session } = await openStream({ requests }, c);
    rt.getSession(session)!.close();
    await waitFor(() => c.text.includes("\r\n0\r\n\r\n"), "the end of the stream");
    const from = c.text.length;
    c.socket.write(get("/realtime/poll?topics=t"));
    await waitFor(() => c.text.includes('"transport":"long-poll"', from), "a poll answered on the same connection");
    expect(c.closed).toBe(false);
  });

  it("answers a request the client sent during the stream once the stream ends", async () => {
    const s = await attached();
    const c = await raw(s.port);
    const { session } = await openStream(s, c);
    c.socket.write(get("/pipelined"));
    s.rt.publish("t", 1);
    await waitFor(() => c.text.includes('"data":1') || c.text.includes("data: 1"), "a message after the pipelined bytes");
    expect(c.text).not.toContain("next /pipelined");
    s.rt.getSession(session)!.close();
    await waitFor(() => c.text.includes("next /pipelined"), "the pipelined request answered");
  });

  it("closes the connection after the stream when the request asked for it", async () => {
    const s = await attached();
    const c = await raw(s.port);
    const { session } = await openStream(s, c, "Connection: close\r\n");
    s.rt.getSession(session)!.close();
    await waitFor(() => c.closed, "the connection closed by the server");
    expect(c.text).toContain("\r\n0\r\n\r\n");
  });

  it("ends the stream and fires the request's 'close' when the client goes away", async () => {
    const s = await attached();
    const c = await raw(s.port);
    const { req } = await openStream(s, c);
    let reqClosed = false;
    req.once("close", () => (reqClosed = true));
    expect(s.rt.stats().connections.sse).toBe(1);
    c.socket.destroy();
    await waitFor(() => s.rt.stats().connections.sse === 0 && reqClosed, "the stream and the request closed");
  });

  it("closes the connection of a client that half-closes, as node:http does", async () => {
    const s = await attached();
    const c = await raw(s.port);
    await openStream(s, c);
    c.socket.end();
    await waitFor(() => c.closed && s.rt.stats().connections.sse === 0, "the connection closed");
  });

  it("cuts a client that sends more than HELD_BYTES during the stream", async () => {
    const s = await attached();
    const c = await raw(s.port);
    await openStream(s, c);
    c.socket.write(Buffer.alloc(HELD_BYTES + 1024, 0x41));
    await waitFor(() => c.closed && s.rt.stats().connections.sse === 0, "the connection cut");
  });
});
