/**
 * The operators' view: rt.stats(), the client's diagnostics report, Prometheus metrics, the
 * logger (console and pino conventions) and the opt-in doctor page route. Real sockets.
 */
import { get, type IncomingMessage } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { Registry as PromRegistry } from "prom-client";
import { connect, type Channel } from "@throughline/client/node";
import { reportDiagnostics } from "@throughline/client/report";
import { createServer, type ServerOptions, type ThroughlineServer } from "@throughline/server";
import { registerMetrics } from "@throughline/server/metrics";
import { waitFor, within } from "@throughline/testkit";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function start(options: ServerOptions = {}): Promise<{ rt: ThroughlineServer; url: string }> {
  const rt = createServer({ heartbeatMs: 1_000, ...options });
  const { url } = await rt.listen(0, "127.0.0.1");
  cleanup.push(() => rt.close());
  return { rt, url };
}

function channel(url: string, options: Parameters<typeof connect>[1]): Channel {
  const ch = connect(url, options);
  cleanup.push(() => ch.close());
  return ch;
}

const opened = (ch: Channel) => new Promise<void>((resolve) => ch.on("open", () => resolve()));

describe("rt.stats()", () => {
  it("counts connections by transport, deliveries, resumes, gaps and rejections", async () => {
    const { rt, url } = await start();
    const sse = channel(url, { topics: ["a"], transports: ["sse"] });
    const ws = channel(url, { topics: ["a"], transports: ["websocket"] });
    await Promise.all([opened(sse), opened(ws)]);
    expect(rt.stats().connections).toEqual({ sse: 1, websocket: 1, "long-poll": 0 });
    let got = 0;
    sse.on("message", () => void got++);
    ws.on("message", () => void got++);
    for (let i = 0; i < 3; i++) rt.publish("a", i);
    await waitFor(() => got === 6, "6 deliveries");
    expect(rt.stats().deliveries).toBe(6);
    // A resume from this epoch (no gap) and one from another epoch (one gap).
    const id = rt.publish("a", "x");
    await Promise.all([opened(channel(url, { topics: ["a"], transports: ["long-poll"], cursor: id })), opened(channel(url, { topics: ["a"], transports: ["sse"], cursor: "zzzzzzzz-1" }))]);
    const s = rt.stats();
    expect(s.resumes).toBe(2);
    expect(s.gaps).toBe(1);
    expect(s.opened).toEqual({ sse: 2, websocket: 1, "long-poll": 1 });
    const res = await fetch(`${url}/sse?topics=bad%20topic`);
    expect(res.status).toBe(400);
    await fetch(`${url}/nope`);
    expect(rt.stats().rejections).toEqual({ TL_BAD_TOPIC: 1, TL_NOT_FOUND: 1 });
  });

  it("counts a slow consumer's 4408 close and the bytes buffered before it", async () => {
    const { rt, url } = await start({ maxBufferedBytes: 256 * 1024, maxOutboundBytes: 128 * 1024 });
    const res = await new Promise<IncomingMessage>((resolve) => get(`${url}/sse`, resolve));
    cleanup.push(() => res.destroy());
    await waitFor(() => rt.connectionCount === 1, "the stream");
    res.pause();
    let maxBuffered = 0;
    await within(
      (async () => {
        // One message a turn: writes of a turn go out together at its end (transports/batch.ts),
        // so the buffered bytes are read after each turn, while the stream is still open.
        for (let i = 0; i < 5_000 && rt.connectionCount > 0; i++) {
          rt.publish("flood", "x".repeat(60_000));
          await new Promise((r) => setImmediate(r));
          maxBuffered = Math.max(maxBuffered, rt.stats().bytesBuffered);
        }
      })(),
      "the flood",
    );
    expect(rt.stats().slowConsumerCloses).toBe(1);
    expect(maxBuffered).toBeGreaterThan(0);
    expect(rt.stats().connections.sse).toBe(0);
  });
});

describe("client diagnostics reports", () => {
  it("reportDiagnostics posts each attempt once; the server counts outcomes, reasons, the chosen transport and Via; a pino-style logger gets (fields, message)", async () => {
    const lines: unknown[][] = [];
    const pino = { level: "info", child: () => pino, info: (...a: unknown[]) => void lines.push(a), warn() {}, error() {} };
    const { rt, url } = await start({ logger: pino });
    // The WebSocket cannot be created (a blocked attempt), then SSE wins.
    const Blocked = class {
      constructor() {
        throw new Error("blocked");
      }
    };
    const ch = channel(url, { topics: ["a"], transports: ["websocket", "sse"], WebSocket: Blocked as never });
    reportDiagnostics(ch, { delayMs: 50, headers: { via: "1.1 corp-proxy" } });
    await opened(ch);
    await waitFor(() => rt.stats().reports === 1, "the report");
    const s = rt.stats();
    expect(s.chosen.sse).toBe(1);
    expect(s.negotiation.sse.outcomes.proven).toBe(1);
    expect(s.negotiation.websocket.outcomes.blocked).toBe(1);
    expect(Object.keys(s.negotiation.websocket.reasons)).toEqual(["the WebSocket could not be created."]);
    expect(s.via).toEqual({ "1.1 corp-proxy": 1 });
    const logged = lines.find((l) => l[1] === "throughline: client negotiation");
    expect(logged?.[0]).toMatchObject({ chosen: "sse", via: "1.1 corp-proxy" });
  });

  it("refuses malformed reports (400) and reports without a live session (404)", async () => {
    const { rt, url } = await start();
    const ch = channel(url, { topics: ["a"], transports: ["sse"] });
    await opened(ch);
    const post = (session: string, body: string) => fetch(`${url}/diagnostics?session=${session}`, { method: "POST", body }).then(async (r) => [r.status, (await r.json()).error.code]);
    expect(await post(ch.session!, "not json")).toEqual([400, "TL_BAD_REQUEST"]);
    expect(await post(ch.session!, JSON.stringify({ attempts: [{ transport: "pigeon", outcome: "proven" }] }))).toEqual([400, "TL_BAD_REQUEST"]);
    expect(await post("s_nosuchsession00000000", JSON.stringify({ attempts: [] }))).toEqual([404, "TL_UNKNOWN_SESSION"]);
    expect(rt.stats().reports).toBe(0);
  });
});

describe("metrics and logging", () => {
  it("registers Prometheus metrics collected from rt.stats()", async () => {
    const { rt, url } = await start();
    const register = new PromRegistry();
    const unregister = registerMetrics(rt, { register });
    await opened(channel(url, { topics: ["a"], transports: ["sse"] }));
    rt.publish("a", 1);
    await fetch(`${url}/sse?topics=bad%20topic`);
    await waitFor(() => rt.stats().deliveries === 1, "a delivery");
    const text = await register.metrics();
    expect(text).toMatch(/^throughline_connections\{transport="sse"\} 1$/m);
    expect(text).toMatch(/^throughline_deliveries_total 1$/m);
    expect(text).toMatch(/^throughline_rejections_total\{code="TL_BAD_TOPIC"\} 1$/m);
    expect(text).toMatch(/# TYPE throughline_negotiation_attempts_total counter/);
    unregister();
    expect(await register.metrics()).toBe("\n");
  });

  it("a console-style logger gets (message, fields) for refusals", async () => {
    const warns: unknown[][] = [];
    const { url } = await start({ authenticate: () => null, logger: { warn: (...a: unknown[]) => void warns.push(a), error() {} } });
    expect((await fetch(`${url}/sse`)).status).toBe(401);
    await waitFor(() => warns.length > 0, "a warning");
    expect(warns[0]![0]).toBe("throughline: request refused");
    expect(warns[0]![1]).toMatchObject({ code: "TL_UNAUTHORIZED", status: 401 });
  });
});

describe("the doctor page route", () => {
  it("is off by default, served with its own CSP when given, and a bad option is refused", async () => {
    const off = await start();
    expect((await fetch(`${off.url}/doctor`)).status).toBe(404);
    const { url } = await start({ doctorPage: () => ({ html: "<!doctype html><p>doctor</p>", csp: "default-src 'none'; script-src 'sha256-x'" }) });
    const res = await fetch(`${url}/doctor`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; script-src 'sha256-x'");
    expect(await res.text()).toBe("<!doctype html><p>doctor</p>");
    expect(() => createServer({ doctorPage: "page" as never })).toThrow(/TL_INVALID_OPTION|doctorPage/);
  });
});
