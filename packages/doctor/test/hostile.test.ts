/**
 * The doctor through every hostile network of the testkit: each yields the right diagnosis,
 * verdict and fix. Real sockets on loopback; short proof timeouts and watches.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHostileProxy, startTestServer, type Behaviour, type TestServer } from "@throughline/testkit";
import { runNodeDoctor, type DoctorReport, type TransportReport } from "@throughline/doctor/node";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const OPTIONS = { timeoutMs: 3_000, watchMs: 2_500, busyMs: 250 } as const;

async function through(behaviours: Behaviour[], srv: TestServer = server, watchMs: number = OPTIONS.watchMs): Promise<DoctorReport> {
  const proxy = await startHostileProxy(`http://127.0.0.1:${srv.port}`, behaviours);
  try {
    return await runNodeDoctor({ ...OPTIONS, watchMs, url: `${proxy.url}/realtime` });
  } finally {
    await proxy.close();
  }
}

const of = (r: DoctorReport, t: string): TransportReport => r.transports.find((x) => x.transport === t)!;

describe("throughline doctor through hostile networks", () => {
  it("a direct connection is healthy on SSE, every transport answered by the Throughline server", async () => {
    const r = await runNodeDoctor({ ...OPTIONS, url: server.url });
    expect(r.verdict).toMatchObject({ health: "healthy", pick: "sse", fixes: [] });
    for (const t of r.transports) {
      expect(t).toMatchObject({ outcome: "proven", reachable: true, answeredBy: "throughline", buffering: undefined, cut: undefined });
      expect(t.watch!.heartbeats).toBeGreaterThan(0);
    }
    expect(of(r, "sse").headers).toMatchObject({ "content-type": "text/event-stream; charset=utf-8", "x-accel-buffering": "no", "transfer-encoding": "chunked" });
    expect(of(r, "websocket").upgrade).toMatchObject({ result: "accepted", status: 101 });
    expect(of(r, "websocket").watch!.roundTripMs).toBeTypeOf("number");
  });

  it("buffer-all: SSE held until the response ends (no status line), the negotiator picks WebSocket", async () => {
    const r = await through([{ kind: "buffer-all" }]);
    expect(of(r, "sse")).toMatchObject({ outcome: "timeout", reachable: false, answeredBy: "none", buffering: { kind: "held-until-end" } });
    expect(r.verdict).toMatchObject({ health: "degraded", pick: "websocket", problems: ["buffering"] });
    expect(r.verdict.fixes.map((f) => f.problem)).toContain("buffering");
  });

  it("buffer-bytes: headers pass, the body is held until N bytes", async () => {
    const r = await through([{ kind: "buffer-bytes", bytes: 8192 }]);
    expect(of(r, "sse")).toMatchObject({ outcome: "buffered", status: 200, answeredBy: "throughline", buffering: { kind: "held-until-bytes" } });
    expect(of(r, "sse").ttfbMs).toBeTypeOf("number");
    expect(r.verdict.pick).toBe("websocket");
  });

  it("hold-first-event: the padding passes, the hello is held until the probe (antivirus)", async () => {
    const r = await through([{ kind: "hold-first-event" }]);
    expect(of(r, "sse")).toMatchObject({ outcome: "buffered", buffering: { kind: "first-event-held" } });
    expect(r.verdict).toMatchObject({ health: "degraded", pick: "websocket" });
  });

  it("compress: Content-Encoding gzip on the stream, compressed and held", async () => {
    const r = await through([{ kind: "compress" }]);
    expect(of(r, "sse")).toMatchObject({ outcome: "buffered", headers: { "content-encoding": "gzip" }, buffering: { kind: "compressed" } });
    expect(r.verdict.problems).toEqual(["compression"]);
    expect(r.verdict.fixes[0]).toMatchObject({ problem: "compression" });
  });

  it("refuse-upgrade: the WebSocket upgrade refused 403 by an intermediary it names; SSE still healthy", async () => {
    const r = await through([{ kind: "refuse-upgrade" }]);
    expect(of(r, "websocket")).toMatchObject({ outcome: "blocked", status: 403, answeredBy: "intermediary", upgrade: { result: "refused", status: 403, byServer: false }, headers: { server: "hostile-proxy" } });
    expect(r.verdict).toMatchObject({ health: "healthy", pick: "sse", problems: ["websocket"], intermediary: { name: "proxy", evidence: "Server: hostile-proxy" } });
    expect(r.verdict.fixes.some((f) => f.problem === "websocket")).toBe(true);
  });

  it("strip-upgrade: the server saw a plain GET (its own 426): the Upgrade header was stripped", async () => {
    const r = await through([{ kind: "strip-upgrade" }]);
    expect(of(r, "websocket")).toMatchObject({ outcome: "blocked", answeredBy: "throughline", upgrade: { result: "refused", status: 426, byServer: true } });
    expect(r.verdict.why.join("\n")).toMatch(/sse: proven/);
  });

  it("upgrade-then-close: 101, then closed before any data", async () => {
    const r = await through([{ kind: "upgrade-then-close" }]);
    expect(of(r, "websocket")).toMatchObject({ outcome: "blocked", upgrade: { result: "closed-after-upgrade", status: 101 } });
  });

  it("block-event-stream: the intermediary's own 403 page instead of the stream", async () => {
    const r = await through([{ kind: "block-event-stream" }]);
    expect(of(r, "sse")).toMatchObject({ outcome: "blocked", status: 403, answeredBy: "intermediary", headers: { server: "hostile-proxy" } });
    expect(r.verdict).toMatchObject({ pick: "websocket", problems: ["blocked"] });
    expect(r.verdict.why[0]).toMatch(/HTTP 403 from an intermediary \(Server: hostile-proxy\)/);
  });

  it("cut-after: streams cut after a fixed duration although data flowed; long-poll survives", async () => {
    const r = await through([{ kind: "cut-after", ms: 1_500 }], server, 3_000);
    expect(of(r, "sse").cut).toMatchObject({ kind: "fixed", code: 1006 });
    expect(of(r, "websocket").cut).toMatchObject({ kind: "fixed" });
    expect(of(r, "sse").cut!.afterMs).toBeGreaterThanOrEqual(1_400);
    expect(of(r, "long-poll").cut).toBeUndefined();
    expect(r.verdict).toMatchObject({ health: "degraded", pick: "sse", problems: ["cut"] });
  });

  describe("with 10 s heartbeats (a quiet stream)", () => {
    let quiet: TestServer;
    beforeAll(async () => {
      quiet = await startTestServer({ heartbeatMs: 10_000, longPollHoldMs: 1_000 });
    });
    afterAll(async () => {
      await quiet?.close();
    });

    it("cut-idle: the quiet SSE stream is cut, the busy WebSocket is not: an idle timeout, with a heartbeat fix", async () => {
      const r = await through([{ kind: "cut-idle", ms: 1_200 }], quiet, 3_000);
      expect(of(r, "sse").cut).toMatchObject({ kind: "idle" });
      expect(of(r, "sse").cut!.quietMs).toBeGreaterThanOrEqual(1_100);
      expect(of(r, "websocket").cut).toBeUndefined();
      expect(r.verdict.fixes).toContainEqual(expect.objectContaining({ problem: "cut", where: "Throughline server" }));
    });
  });

  it("a dead port: every transport unreachable, failing", async () => {
    const proxy = await startHostileProxy(`http://127.0.0.1:${server.port}`, [{ kind: "pass" }]);
    const url = `${proxy.url}/realtime`;
    await proxy.close();
    const r = await runNodeDoctor({ ...OPTIONS, url });
    expect(r.verdict).toMatchObject({ health: "failing", pick: null });
    for (const t of r.transports) expect(t).toMatchObject({ reachable: false, answeredBy: "none", outcome: "blocked" });
  });
});
