import { createServer as createHttpServer } from "node:http";
import { connect as netConnect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createServer } from "@throughline/server";
import { cleanup, hello, httpRequest, onCleanup, openSse, poll, start, waitFor, within } from "../helpers.js";
import { errorCode, recordingLogger, tryWs } from "./util.js";

afterEach(cleanup);

describe("connection limits", () => {
  it("caps connections per client address with 429 + Retry-After and frees the place when one closes", async () => {
    const { url, rt } = await start({ maxConnectionsPerAddress: 2 });
    const a = await openSse(`${url}/sse`);
    await tryWs(`${url}/ws`);
    const r = await httpRequest(`${url}/sse`);
    expect(r.status).toBe(429);
    expect(errorCode(r.body)).toBe("TL_RATE_LIMITED");
    expect(r.headers["retry-after"]).toBe("5");
    const w = await tryWs(`${url}/ws`);
    expect(w.status).toBe(429);
    expect(w.headers?.["retry-after"]).toBe("5");
    expect((await httpRequest(`${url}/poll`)).status).toBe(429);
    a.close();
    await waitFor(() => rt.connectionCount === 1, "the SSE connection to go");
    expect((await poll(url)).status).toBe(200);
  });

  it("counts X-Forwarded-For addresses only with trustProxy", async () => {
    const trusting = await start({ maxConnectionsPerAddress: 1, trustProxy: true });
    await openSse(`${trusting.url}/sse`, { "x-forwarded-for": "10.0.0.1" });
    expect((await openSse(`${trusting.url}/sse`, { "x-forwarded-for": "10.0.0.2, 127.0.0.1" })).status).toBe(200);
    expect((await httpRequest(`${trusting.url}/sse`, { headers: { "x-forwarded-for": "10.0.0.1" } })).status).toBe(429);
    const plain = await start({ maxConnectionsPerAddress: 1 });
    await openSse(`${plain.url}/sse`, { "x-forwarded-for": "10.0.0.1" });
    expect((await httpRequest(`${plain.url}/sse`, { headers: { "x-forwarded-for": "10.0.0.2" } })).status).toBe(429);
  });

  it("caps connections per user and in total, leaving other users unaffected", async () => {
    const { url } = await start({ maxConnectionsPerUser: 1, maxConnections: 3, authenticate: (req) => req.headers["x-user"] ?? null });
    await openSse(`${url}/sse`, { "x-user": "u1" });
    expect((await httpRequest(`${url}/sse`, { headers: { "x-user": "u1" } })).status).toBe(429);
    expect((await openSse(`${url}/sse`, { "x-user": "u2" })).status).toBe(200);
    expect((await openSse(`${url}/sse`, { "x-user": "u3" })).status).toBe(200);
    const r = await httpRequest(`${url}/sse`, { headers: { "x-user": "u4" } });
    expect(r.status).toBe(429);
    expect(r.body).toContain("connection limit");
  });

  it("does not count a long-poll continuation as a new connection", async () => {
    const { url } = await start({ maxConnectionsPerAddress: 1, longPollHoldMs: 50 });
    const h = hello((await poll(url)).frames);
    for (let i = 0; i < 3; i++) expect((await poll(url, { session: h.session, cursor: h.cursor })).status).toBe(200);
  });
});

describe("request limits", () => {
  it("refuses more topics than maxTopicsPerConnection with 400 TL_BAD_TOPIC (WebSocket: close 4400)", async () => {
    const { url } = await start({ maxTopicsPerConnection: 3 });
    const r = await httpRequest(`${url}/sse?topics=a,b,c,d`);
    expect(r.status).toBe(400);
    expect(errorCode(r.body)).toBe("TL_BAD_TOPIC");
    expect((await httpRequest(`${url}/poll?topics=a,b,c`)).status).toBe(200);
    const w = await tryWs(`${url}/ws?topics=a,b,c,d`);
    expect((await within(w.closed, "close")).code).toBe(4400);
  });

  it("limits long-poll requests per session per second with 429 + Retry-After: 1", async () => {
    const { url } = await start({ maxPollsPerSecond: 3, longPollHoldMs: 10 });
    const h = hello((await poll(url)).frames);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await poll(url, { session: h.session, cursor: h.cursor })).status);
    expect(statuses).toContain(429);
    const refused = await poll(url, { session: h.session, cursor: h.cursor });
    if (refused.status === 429) expect(refused.headers["retry-after"]).toBe("1");
    // Another session is not affected.
    expect((await poll(url)).status).toBe(200);
  });

  it("answers a request head larger than maxHeaderBytes with 431 and stays up", async () => {
    const { url } = await start({ maxHeaderBytes: 2_048 });
    const r = await httpRequest(`${url}/poll`, { headers: { "x-big": "a".repeat(4_096) } }).catch((e: Error) => ({ status: -1, error: e }));
    expect([431, -1]).toContain(r.status);
    expect((await poll(url)).status).toBe(200);
  });

  it("closes a slow-loris connection that never finishes its headers", async () => {
    const { port, url } = await start({ headersTimeoutMs: 300, requestTimeoutMs: 300 });
    const socket = netConnect(port, "127.0.0.1");
    onCleanup(() => void socket.destroy());
    socket.on("error", () => {});
    let answer = "";
    socket.on("data", (d) => (answer += d.toString()));
    const closed = new Promise<void>((r) => socket.on("close", () => r()));
    socket.write("GET /realtime/poll HTTP/1.1\r\nHost: x\r\n");
    const drip = setInterval(() => socket.write("x-a: b\r\n"), 50);
    onCleanup(() => clearInterval(drip));
    await within(closed, "the server to close the slow-loris socket", 10_000);
    clearInterval(drip);
    expect(answer === "" || answer.startsWith("HTTP/1.1 408")).toBe(true);
    expect((await poll(url)).status).toBe(200);
  });

  it("warns through the logger when attach() gets an http server with laxer limits", () => {
    const logger = recordingLogger();
    const http = createHttpServer();
    createServer({ logger }).attach(http);
    expect(logger.lines.join("\n")).toContain("headersTimeout");
    const strict = recordingLogger();
    createServer({ logger: strict }).attach(createHttpServer({ headersTimeout: 5_000, requestTimeout: 20_000 }));
    expect(strict.lines).toEqual([]);
  });

  it("rejects out-of-range limit options with TL_INVALID_OPTION", () => {
    for (const o of [{ maxConnections: 0 }, { maxTopicsPerConnection: 257 }, { maxPollsPerSecond: 0.5 }, { headersTimeoutMs: 60_000, requestTimeoutMs: 1_000 }, { trustProxy: "yes" }, { logger: {} }]) {
      expect(() => createServer(o as never), JSON.stringify(o)).toThrow(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
    }
  });
});
