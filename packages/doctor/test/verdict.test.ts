/**
 * The pure parts: recognising intermediaries (Apache, Cloudflare and IIS/ARR cannot run here,
 * so their answers are given as headers), their fixes, late heartbeats and settling cuts.
 */
import { describe, expect, it } from "vitest";
import { fixesFor, recognise, type TransportReport } from "@throughline/doctor";
import { diagnose } from "../src/diagnose.js";
import type { ProbeRun } from "../src/probe.js";
import { settleCuts, verdictOf } from "../src/verdict.js";

const report = (over: Partial<TransportReport>): TransportReport => ({
  transport: "sse",
  outcome: "proven",
  reason: "",
  reachable: true,
  answeredBy: "throughline",
  headers: {},
  ...over,
});

describe("recognise", () => {
  it.each([
    [{ server: "nginx/1.22.1" }, "nginx", "Server: nginx/1.22.1"],
    [{ server: "Apache/2.4.57 (Debian)" }, "apache", "Server: Apache/2.4.57 (Debian)"],
    [{ server: "cloudflare", "cf-ray": "8a1b2c3d4e5f-FRA" }, "cloudflare", "Cf-Ray: 8a1b2c3d4e5f-FRA"],
    [{ server: "Microsoft-IIS/10.0" }, "iis", "Server: Microsoft-IIS/10.0"],
    [{ "x-powered-by": "ARR/3.0" }, "iis", "X-Powered-By: ARR/3.0"],
    [{ via: "1.1 corp-proxy" }, "proxy", "Via: 1.1 corp-proxy"],
  ])("%j is %s", (headers, name, evidence) => {
    expect(recognise([report({ headers })])).toEqual({ name, evidence });
  });

  it("no telltale header: nothing recognised", () => {
    expect(recognise([report({ headers: { "content-type": "text/event-stream" } })])).toBeUndefined();
  });
});

describe("fixesFor", () => {
  it("names each intermediary's own settings", () => {
    const text = (name: Parameters<typeof fixesFor>[1]) => fixesFor(["buffering", "websocket", "cut"], name).map((f) => f.text).join("\n");
    expect(text({ name: "nginx", evidence: "" })).toMatch(/proxy_buffering off;[\s\S]*proxy_set_header Upgrade[\s\S]*proxy_read_timeout/);
    expect(text({ name: "apache", evidence: "" })).toMatch(/flushpackets=on[\s\S]*upgrade=websocket[\s\S]*ProxyTimeout/);
    expect(text({ name: "cloudflare", evidence: "" })).toMatch(/Cache Rule[\s\S]*WebSockets: on[\s\S]*100 s/);
    expect(text({ name: "iis", evidence: "" })).toMatch(/responseBufferLimit="0"[\s\S]*Web-WebSockets[\s\S]*timeout="01:00:00"/);
  });

  it("an idle cut adds a heartbeat below half the idle time", () => {
    expect(fixesFor(["cut"], undefined, 30_000).at(-1)).toEqual({ problem: "cut", where: "Throughline server", text: expect.stringMatching(/^heartbeatMs below 15000/) });
  });
});

describe("diagnose", () => {
  it("heartbeats arriving late and together are 'late' with bursts", () => {
    const run: ProbeRun = {
      transport: "sse",
      record: { transport: "sse", purpose: "connect", outcome: "proven", startedAt: 0, openedMs: 5, helloMs: 6, provenMs: 110, endedMs: 110, reason: "ok" },
      exchanges: [{ route: "/sse", method: "GET", status: 200, headers: { "x-throughline": "1" }, headersMs: 5, chunks: [] }],
      upgrade: {},
      hello: { type: "hello", session: "s", transport: "sse", heartbeatMs: 1_000, time: 0, cursor: "", retryMs: 50 },
      arrivals: [
        { atMs: 110, delivery: 1, type: "probe", serverTime: 100 },
        { atMs: 3_010, delivery: 2, type: "heartbeat", serverTime: 1_000 },
        { atMs: 3_011, delivery: 2, type: "heartbeat", serverTime: 2_000 },
        { atMs: 3_012, delivery: 2, type: "heartbeat", serverTime: 3_000 },
      ],
      sends: [],
      watchFromMs: 100,
      watchToMs: 3_100,
    };
    const r = diagnose(run, 3_000);
    expect(r.watch).toMatchObject({ heartbeats: 3, maxLatenessMs: 2_000, bursts: 1 });
    expect(r.buffering).toMatchObject({ kind: "late" });
    expect(verdictOf([r]).health).toBe("degraded");
  });
});

describe("settleCuts", () => {
  const quietCut = { afterMs: 1_300, quietMs: 1_200, kind: "idle-or-fixed" as const, code: 1006 };
  it("a busy WebSocket that outlived the quiet stream's cut makes it an idle cut", () => {
    const ws = report({ transport: "websocket", provenMs: 100, watch: { ms: 3_000, heartbeatMs: 10_000, heartbeats: 0, maxLatenessMs: 0, bursts: 0 } });
    expect(settleCuts([report({ cut: quietCut }), ws])[0]!.cut!.kind).toBe("idle");
  });
  it("a busy WebSocket cut after about as long makes it a fixed duration", () => {
    const ws = report({ transport: "websocket", cut: { afterMs: 1_350, quietMs: 100, kind: "fixed", code: 1006 }, watch: { ms: 1_200, heartbeatMs: 10_000, heartbeats: 0, maxLatenessMs: 0, bursts: 0 } });
    expect(settleCuts([report({ cut: quietCut }), ws])[0]!.cut!.kind).toBe("fixed");
  });
  it("without a WebSocket watch it stays undecided", () => {
    expect(settleCuts([report({ cut: quietCut })])[0]!.cut!.kind).toBe("idle-or-fixed");
  });
});
