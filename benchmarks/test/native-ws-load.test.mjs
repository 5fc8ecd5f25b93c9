// The native WebSocket load client (native/ws-load.c) built with the system's C compiler and run
// as the benchmark runs it (lib/proc.mjs Child, JSON lines): against a real `ws` server on a Unix
// socket (every frame-length encoding, ping, latency histogram, credit `min`) and Throughline's
// server over TCP on loopback (hello, heartbeats, a published message).
import { createServer as createHttpServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { createServer } from "@throughline/server";
import { Histogram } from "../lib/hist.mjs";
import { nativeWsLoad } from "../lib/native.mjs";
import { makePayload, nowMs } from "../lib/payload.mjs";
import { Child } from "../lib/proc.mjs";

const cleanups = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

let executable;
beforeAll(() => {
  executable = nativeWsLoad();
}, 60_000);

/** The client as a benchmark child; `unixPath` is the socket it dials (else the URL's TCP port). */
function start(kind, url, unixPath) {
  // Empty: unset for the client, whatever this process's environment holds.
  const child = new Child(executable, [kind, url], { native: true, name: "native client", env: { BENCH_UNIX_SOCKET: unixPath ?? "" } });
  cleanups.push(() => child.stop());
  return child;
}

const until = (pred, ms = 5_000) =>
  new Promise((resolve, reject) => {
    const end = Date.now() + ms;
    const tick = () => (pred() ? resolve() : Date.now() > end ? reject(new Error("timed out")) : setTimeout(tick, 5));
    tick();
  });

describe("native WebSocket load client", () => {
  it("over a Unix socket: reads every frame-length encoding, answers pings, reports latency and the credit seq", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tl-native-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "s.sock");
    const http = createHttpServer((_q, r) => r.writeHead(404).end());
    const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
    const paths = [];
    let pongs = 0;
    wss.on("connection", (ws, req) => {
      paths.push(req.url);
      ws.on("pong", () => pongs++);
    });
    await new Promise((r) => http.listen(path, r));
    cleanups.push(() => new Promise((r) => { for (const c of wss.clients) c.terminate(); wss.close(); http.close(() => r()); }));

    const child = start("ws-raw", "ws://127.0.0.1:0/bench?x=1", path);
    await child.wait((m) => m.type === "ready", 10_000, "ready");
    expect(await child.request({ cmd: "connect", count: 3, concurrency: 8 }, "connected")).toMatchObject({ open: 3, failed: 0 });
    expect(paths).toEqual(["/bench?x=1", "/bench?x=1", "/bench?x=1"]);
    const progress = [];
    child.onMessage = (m) => m.type === "progress" && progress.push(m);
    child.send({ cmd: "track", latency: true, progressMs: 10 });
    await until(() => progress.length > 0);

    // 7-bit, 16-bit and 64-bit payload lengths, each a benchmark payload 5 ms old.
    const t = nowMs() - 5;
    for (const [seq, size] of [[1, 64], [2, 300], [3, 70_000]]) {
      const text = JSON.stringify(makePayload(seq, size, t));
      for (const ws of wss.clients) ws.send(text);
    }
    for (const ws of wss.clients) ws.ping();
    await until(() => progress.at(-1).delivered === 9 && pongs === 3);
    expect(progress.at(-1)).toMatchObject({ min: 3, open: 3 });

    const report = await child.request({ cmd: "report" }, "report");
    expect(report).toMatchObject({ delivered: 9, open: 3, min: 3 });
    const hist = new Histogram().merge(report.hist);
    expect(hist.n).toBe(9);
    // Each was 5 ms old when sent: the client counted from the payload's own time.
    expect(hist.quantile(0.5)).toBeGreaterThanOrEqual(4.9);
    expect(hist.max).toBeLessThan(5_000);
    expect(report.cpuUs).toBeGreaterThanOrEqual(0);

    // A closed connection leaves the count, and the credit is over the open ones only.
    [...wss.clients][0].close();
    child.send({ cmd: "track", latency: false, progressMs: 10 });
    await until(() => progress.at(-1).open === 2);
  });

  it("over TCP against Throughline's server: reads the hello, stays connected past its heartbeat, receives a publish", async () => {
    const rt = createServer({ heartbeatMs: 1_000 });
    await rt.ready;
    const http = createHttpServer((_q, r) => r.writeHead(404).end());
    rt.attach(http);
    await new Promise((r) => http.listen(0, "127.0.0.1", r));
    cleanups.push(async () => {
      await rt.close();
      http.closeAllConnections();
      await new Promise((r) => http.close(() => r()));
    });
    const child = start("ws-throughline", `ws://127.0.0.1:${http.address().port}/realtime/ws?topics=bench`);
    await child.wait((m) => m.type === "ready", 10_000, "ready");
    expect(await child.request({ cmd: "connect", count: 2 }, "connected")).toMatchObject({ open: 2, failed: 0 });
    const progress = [];
    child.onMessage = (m) => m.type === "progress" && progress.push(m);
    child.send({ cmd: "track", latency: true, progressMs: 10 });
    // Longer than the server's heartbeat: the client's own heartbeats keep both connections.
    await new Promise((r) => setTimeout(r, 2_500));
    rt.publish("bench", makePayload(7, 64));
    await until(() => progress.at(-1)?.delivered === 2);
    expect(progress.at(-1)).toMatchObject({ min: 7, open: 2 });
    const report = await child.request({ cmd: "report" }, "report");
    expect(new Histogram().merge(report.hist).n).toBe(2);
  });

  it("reports a refused upgrade as a failed connect with its reason, and refuses an unknown kind", async () => {
    const http = createHttpServer((_q, r) => r.writeHead(404).end());
    await new Promise((r) => http.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => { http.closeAllConnections(); http.close(() => r()); }));
    const child = start("ws-raw", `ws://127.0.0.1:${http.address().port}/`);
    await child.wait((m) => m.type === "ready", 10_000, "ready");
    expect(await child.request({ cmd: "connect", count: 2 }, "connected")).toMatchObject({ open: 0, failed: 2, error: "upgrade refused" });

    const bad = start("ws-socketio", "ws://127.0.0.1:1/");
    await until(() => bad.exited);
    expect(bad.proc.exitCode).toBe(2);
    expect(bad.stderr).toContain("unknown client kind ws-socketio");
  });
});
