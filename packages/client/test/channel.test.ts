import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from "vitest";
import { connect, type Channel, type Clock, type ConnectOptions, type Message } from "@throughline/client/node";
import { connect as connectBrowser } from "@throughline/client";
import type { GapFrame, ThroughlineError } from "@throughline/wire";
import { startFakeServer, type FakeServer } from "./helpers/fake-server.js";
import { hello, msg, writeError, writeSse } from "./helpers/scripted.js";
import { next, sleep, waitFor } from "./helpers/wait.js";

const FAST = { reconnect: { minDelayMs: 10, maxDelayMs: 100 } } satisfies ConnectOptions;

let server: FakeServer;
let channels: Channel[] = [];

beforeEach(async () => {
  server = await startFakeServer();
});
afterEach(async () => {
  for (const ch of channels) ch.close();
  channels = [];
  await server.close();
});

function open(options: ConnectOptions = {}, entry = connect): Channel {
  const ch = entry(server.url, { ...FAST, ...options });
  channels.push(ch);
  return ch;
}
function record(ch: Channel) {
  const got: Message[] = [];
  const errors: ThroughlineError[] = [];
  const closes: { code: number; reason: string; error?: ThroughlineError }[] = [];
  ch.on("*", (m) => got.push(m));
  ch.on("error", (e) => errors.push(e));
  ch.on("close", (c) => closes.push(c));
  return { got, errors, closes };
}

describe("delivery", () => {
  it("ignores a gap older than its cursor (the overlap was delivered) and keeps one at its cursor", async () => {
    server.intercept = (_req, res, route) => {
      if (route !== "/sse") return false;
      writeSse(res, [
        hello(),
        msg("ep1-5", 5), msg("ep1-6", 6),
        // Older than what the app has: another link already delivered past it.
        { type: "gap", topic: "t", reason: "evicted", cursor: "ep1-3" },
        msg("ep1-7", 7),
        // At the cursor: messages after it are really missing.
        { type: "gap", topic: "t", reason: "evicted", cursor: "ep1-7" },
        msg("ep1-9", 9),
      ]);
      return true;
    };
    const ch = open({ transports: ["sse"], cursor: "ep1-4" });
    const { got } = record(ch);
    const gaps: GapFrame[] = [];
    ch.on("gap", (g) => gaps.push(g));
    await waitFor(() => got.length >= 4, "four messages");
    await sleep(50);
    expect(got.map((m) => m.data)).toEqual([5, 6, 7, 9]);
    expect(gaps).toEqual([{ type: "gap", topic: "t", reason: "evicted", cursor: "ep1-7" }]);
  });

  it("drops messages not newer than the cursor and delivers a new epoch after its gap", async () => {
    server.intercept = (_req, res, route) => {
      if (route !== "/sse") return false;
      writeSse(res, [
        hello(),
        msg("ep1-1", 1), msg("ep1-2", 2), msg("ep1-2", "dup"), msg("ep1-1", "old"), msg("ep1-3", 3),
        { type: "gap", topic: "*", reason: "epoch", cursor: "ep2-0" },
        msg("ep2-1", 4), msg("ep2-1", "dup"), msg("ep1-9", "stale epoch"),
      ]);
      return true;
    };
    const ch = open({ transports: ["sse"] });
    const { got } = record(ch);
    const gaps: GapFrame[] = [];
    ch.on("gap", (g) => gaps.push(g));
    await waitFor(() => got.length >= 4, "four messages");
    await sleep(50);
    expect(got.map((m) => m.data)).toEqual([1, 2, 3, 4, "stale epoch"]);
    expect(gaps).toEqual([{ type: "gap", topic: "*", reason: "epoch", cursor: "ep2-0" }]);
    expect(ch.cursor).toBe("ep1-9");
  });

  it("starts from the cursor option: sends it as Last-Event-ID and drops what precedes it", async () => {
    server.intercept = (_req, res, route) => {
      if (route !== "/sse") return false;
      writeSse(res, [hello({ cursor: "ep1-3" }), msg("ep1-1", 1), msg("ep1-2", 2), msg("ep1-3", 3)]);
      return true;
    };
    const ch = open({ transports: ["sse"], cursor: "ep1-2" });
    const { got } = record(ch);
    await waitFor(() => got.length === 1, "one message");
    expect(got.map((m) => m.data)).toEqual([3]);
    expect(server.hits("/sse")[0]!.headers["last-event-id"]).toBe("ep1-2");
  });

  it("reports a gap when resuming from another epoch and continues after the gap's cursor", async () => {
    server.publish("t", "x");
    const ch = open({ transports: ["websocket"], cursor: "oldepoch-5" });
    const gap = await next<GapFrame>(ch, "gap");
    expect(gap).toMatchObject({ topic: "*", reason: "epoch", cursor: "ep1-1" });
    expect(ch.cursor).toBe("ep1-1");
  });

  it("keeps delivering when a listener throws, and reports the exception", async () => {
    const reported: unknown[] = [];
    const g = globalThis as { reportError?: (e: unknown) => void };
    const saved = g.reportError;
    g.reportError = (e) => reported.push(e);
    try {
      const ch = open({ transports: ["sse"] });
      const boom = new Error("listener bug");
      ch.on("*", () => {
        throw boom;
      });
      const { got } = record(ch);
      await next(ch, "open");
      server.publish("t", 1);
      server.publish("t", 2);
      await waitFor(() => got.length === 2, "both messages");
      expect(reported).toEqual([boom, boom]);
    } finally {
      if (saved) g.reportError = saved;
      else delete g.reportError;
    }
  });

  it("ends async iteration when the channel closes, after yielding what was delivered", async () => {
    const ch = open({ transports: ["sse"] });
    await next(ch, "open");
    const seen: unknown[] = [];
    const loop = (async () => {
      for await (const m of ch) {
        seen.push(m.data);
        if (seen.length === 2) ch.close();
      }
    })();
    server.publish("t", 1);
    server.publish("t", 2);
    await loop;
    expect(seen).toEqual([1, 2]);
    const late = ch[Symbol.asyncIterator]();
    expect(await late.next()).toEqual({ done: true, value: undefined });
  });

  it("yields the messages that came before a server close, then ends", async () => {
    const ch = open({ transports: ["sse"] });
    await next(ch, "open");
    const it = ch[Symbol.asyncIterator]();
    server.publish("t", 1);
    server.publish("t", 2);
    await next(ch, "*");
    server.closeAll(1000, "done");
    await next(ch, "close");
    const seen: unknown[] = [];
    for (let r = await it.next(); !r.done; r = await it.next()) seen.push(r.value.data);
    expect(seen).toEqual([1, 2]);
  });

  it("detaches an iterator on break while the channel stays open", async () => {
    const ch = open({ transports: ["long-poll"] });
    await next(ch, "open");
    server.publish("t", 1);
    for await (const m of ch) {
      expect(m.data).toBe(1);
      break;
    }
    expect(ch.readyState).toBe(1);
  });
});

describe("negotiation and failures", () => {
  it("ends with 4401 on the server's own 401 without trying other transports or retrying", async () => {
    server.intercept = (_req, res) => {
      writeError(res, 401, "TL_UNAUTHORIZED", true);
      return true;
    };
    const ch = open({ token: "secret-token" });
    const { errors, closes } = record(ch);
    await waitFor(() => closes.length === 1, "the close event");
    await sleep(300);
    expect(closes[0]).toMatchObject({ code: 4401, error: { code: "TL_UNAUTHORIZED", status: 401 } });
    expect(errors).toEqual([closes[0]!.error]);
    expect(errors[0]!.message).not.toContain("secret-token");
    // SSE, and at most the long-poll scout (if the refusal took longer than its delay); no retry.
    expect(server.requests.filter((r) => r.route === "/sse")).toHaveLength(1);
    expect(server.requests.filter((r) => r.route !== "/sse").map((r) => r.route)).toEqual(server.requests.length > 1 ? ["/poll"] : []);
    expect(ch.readyState).toBe(2);
  });

  it("passes a well-formed code it does not know through (a newer server's), and keeps TL_HTTP_STATUS for a malformed one", async () => {
    for (const [sent, expected] of [["TL_SOME_NEWER_CODE", "TL_SOME_NEWER_CODE"], ["not-a-code", "TL_HTTP_STATUS"], ["TL_lower", "TL_HTTP_STATUS"]] as const) {
      server.intercept = (_req, res) => {
        writeError(res, 403, sent, true);
        return true;
      };
      const ch = open({ transports: ["sse"] });
      const { closes } = record(ch);
      await waitFor(() => closes.length === 1, "the close event");
      expect(closes[0]).toMatchObject({ code: 4403, error: { code: expected, status: 403 } });
    }
  });

  it("treats an unmarked 403 page as an intermediary's (TL_HTTP_STATUS) and falls back to the next transport", async () => {
    server.intercept = (_req, res, route) => {
      if (route !== "/sse") return false;
      res.writeHead(403, { "content-type": "text/html" }).end("<html><body>Blocked by policy</body></html>");
      return true;
    };
    const ch = open();
    const { errors } = record(ch);
    const transports: unknown[] = [];
    ch.on("transport", (t) => transports.push(t));
    await next(ch, "open");
    expect(ch.transport).toBe("websocket");
    expect(errors.map((e) => [e.code, e.status])).toEqual([["TL_HTTP_STATUS", 403]]);
    expect(transports).toEqual([{ transport: "websocket", previous: null }]);
  });

  it("falls back when the SSE route answers something other than an event stream", async () => {
    server.intercept = (_req, res, route) => {
      if (route !== "/sse") return false;
      res.writeHead(200, { "content-type": "text/html" }).end("<html>captive portal</html>");
      return true;
    };
    const ch = open({ transports: ["sse", "long-poll"] });
    const { errors } = record(ch);
    await next(ch, "open");
    expect(ch.transport).toBe("long-poll");
    expect(errors.map((e) => e.code)).toEqual(["TL_NOT_EVENT_STREAM"]);
  });

  it("gives up an attempt whose hello does not come within connectTimeoutMs", async () => {
    server.intercept = (_req, res, route) => {
      if (route !== "/sse") return false;
      res.writeHead(200, { "content-type": "text/event-stream" }).write(":just padding\n\n");
      return true;
    };
    const ch = open({ connectTimeoutMs: 300 });
    const { errors } = record(ch);
    await next(ch, "open");
    expect(ch.transport).toBe("websocket");
    expect(errors.map((e) => e.code)).toEqual(["TL_CONNECT_TIMEOUT"]);
  });

  it("uses only the forced transport", async () => {
    const ch = open({ transports: ["long-poll"] });
    await next(ch, "open");
    await ch.send("x");
    expect(ch.transport).toBe("long-poll");
    expect(new Set(server.requests.map((r) => r.route))).toEqual(new Set(["/poll", "/send"]));
  });

  it("reports TL_NO_TRANSPORT after a failed round, backs off and connects once the server recovers", async () => {
    let refuse = true;
    server.intercept = (_req, res) => {
      if (!refuse) return false;
      res.writeHead(502).end("bad gateway");
      return true;
    };
    const ch = open({ transports: ["sse", "long-poll"] });
    const { errors } = record(ch);
    await waitFor(() => errors.filter((e) => e.code === "TL_NO_TRANSPORT").length >= 2, "two failed rounds");
    refuse = false;
    await next(ch, "open");
    expect(errors.slice(0, 3).map((e) => e.code)).toEqual(["TL_HTTP_STATUS", "TL_HTTP_STATUS", "TL_NO_TRANSPORT"]);
  });

  it("closes with TL_NO_TRANSPORT when reconnect is off and every transport failed", async () => {
    server.intercept = (_req, res) => {
      res.writeHead(500).end();
      return true;
    };
    const ch = open({ transports: ["sse"], reconnect: false });
    const { errors, closes } = record(ch);
    await waitFor(() => closes.length === 1, "the close event");
    expect(closes[0]).toMatchObject({ code: 1006, error: { code: "TL_NO_TRANSPORT" } });
    expect(errors.map((e) => e.code)).toEqual(["TL_HTTP_STATUS", "TL_NO_TRANSPORT"]);
  });

  it("closes for good on a lost connection when reconnect is off", async () => {
    const ch = open({ transports: ["sse"], reconnect: false });
    const { closes } = record(ch);
    await next(ch, "open");
    await waitFor(() => server.connectionCount === 1, "the connection");
    server.dropAll();
    await waitFor(() => closes.length === 1, "the close event");
    expect(closes[0]).toMatchObject({ code: 1006, error: { code: "TL_CONNECTION_LOST" } });
    expect(server.hits("/sse")).toHaveLength(1);
  });

  it("fails the WebSocket with TL_NO_WEBSOCKET where there is none, and falls back to SSE", async () => {
    // As on Node 20 (Node ≥ 22 has a global WebSocket): the browser entry finds none.
    vi.stubGlobal("WebSocket", undefined);
    onTestFinished(() => {
      vi.unstubAllGlobals();
    });
    // SSE must prove itself here: its probe paced after the client's read of the hello (fake-server.ts).
    const ch = open({ transports: ["websocket", "sse"], fetch: server.fetch }, connectBrowser);
    const { errors } = record(ch);
    await next(ch, "open");
    expect(ch.transport).toBe("sse");
    expect(errors.map((e) => e.code)).toEqual(["TL_NO_WEBSOCKET"]);
  });

  it("detects a dead connection by missing heartbeats and reconnects", async () => {
    // A clock running 50× faster: the dead-connection bound (2 heartbeats + 5 s) passes in ~100 ms.
    const speed = 50;
    const t0 = Date.now();
    const clock: Clock = {
      now: () => t0 + (Date.now() - t0) * speed,
      setTimeout: (fn, ms) => setTimeout(fn, ms / speed),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    };
    let first = true;
    server.sessions.add("scripted");
    server.intercept = (_req, res, route) => {
      if (route !== "/sse" || !first) return false;
      first = false;
      writeSse(res, [hello({ heartbeatMs: 100 })]); // then silence: no heartbeat ever
      return true;
    };
    const ch = open({ transports: ["sse"], clock });
    const { errors } = record(ch);
    await next(ch, "open");
    await next(ch, "open");
    expect(errors.map((e) => e.code)).toEqual(["TL_CONNECTION_LOST"]);
    expect(server.hits("/sse")).toHaveLength(2);
  });
});

describe("requests", () => {
  it("sends the token and extra headers on every fetch request and never in a URL", async () => {
    let n = 0;
    const ch = open({ transports: ["long-poll"], token: () => `tok${++n}`, headers: { "x-app": "demo" } });
    await next(ch, "open");
    await ch.send("hi");
    await waitFor(() => server.hits("/poll").length >= 2, "a second poll");
    for (const r of server.requests) {
      expect(r.headers.authorization).toMatch(/^Bearer tok\d+$/);
      expect(r.headers["x-app"]).toBe("demo");
      expect(r.query.toString()).not.toContain("tok");
    }
    expect(new Set(server.requests.map((r) => r.headers.authorization)).size).toBe(server.requests.length);
  });

  it("reports a failing token function as TL_CONNECT_FAILED without sending a request", async () => {
    const ch = open({ transports: ["sse", "long-poll"], reconnect: false, token: () => Promise.reject(new Error("vault down")) });
    const { errors, closes } = record(ch);
    await waitFor(() => closes.length === 1, "the close event");
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      ["TL_CONNECT_FAILED", "Throughline: the token function failed."],
      ["TL_CONNECT_FAILED", "Throughline: the token function failed."],
      ["TL_NO_TRANSPORT", "Throughline: every transport failed (sse, long-poll)."],
    ]);
    expect(server.requests).toEqual([]);
  });

  it("names its topics in every connection request", async () => {
    const ch = open({ transports: ["sse"], topics: ["a", "b/c"] });
    await next(ch, "open");
    expect(server.hits("/sse")[0]!.query.get("topics")).toBe("a,b/c");
  });
});

describe("client frames", () => {
  it("sends heartbeats over WebSocket every heartbeatMs", async () => {
    const fast = await startFakeServer({ heartbeatMs: 50 });
    const ch = connect(fast.url, { ...FAST, transports: ["websocket"] });
    try {
      await next(ch, "open");
      await waitFor(() => fast.received.filter((f) => f.type === "heartbeat").length >= 2, "two client heartbeats");
      expect(fast.received.find((f) => f.type === "heartbeat")).toEqual({ type: "heartbeat", time: expect.any(Number) });
    } finally {
      ch.close();
      await fast.close();
    }
  });

  it("does not echo the server's probes once open (probes only prove an attempt; an echo would ping-pong over WebSocket)", async () => {
    server.sessions.add("scripted");
    server.intercept = (_req, res, route) => {
      if (route !== "/sse") return false;
      writeSse(res, [hello(), { type: "probe", seq: 7, time: Date.now() }]);
      return true;
    };
    const ch = open({ transports: ["sse"] });
    await next(ch, "open");
    await ch.send("after the probe");
    await waitFor(() => server.received.length > 0, "the message");
    expect(server.received).toEqual([{ type: "message", data: "after the probe" }]);
    expect(server.hits("/send")[0]!.query.get("session")).toBe("scripted");
  });
});

describe("closing", () => {
  it("closes while connecting with exactly one close event and no open", async () => {
    const ch = open();
    const { closes } = record(ch);
    let opened = 0;
    ch.on("open", () => opened++);
    ch.close();
    ch.close();
    await sleep(200);
    expect(closes).toEqual([{ code: 1000, reason: "closed by the client" }]);
    expect(opened).toBe(0);
  });

  it("rejects a send waiting for the connection when the channel closes", async () => {
    const ch = open({ transports: ["sse"] });
    const pending = ch.send("never");
    ch.close();
    await expect(pending).rejects.toMatchObject({ code: "TL_CLOSED" });
  });

  it("fails a send that waits longer than connectTimeoutMs with TL_SEND_FAILED", async () => {
    server.intercept = (_req, res) => {
      res.writeHead(503).end();
      return true;
    };
    const ch = open({ transports: ["sse"], connectTimeoutMs: 200 });
    await expect(ch.send("x")).rejects.toMatchObject({ code: "TL_SEND_FAILED" });
  });

  it("closes through Symbol.asyncDispose", async () => {
    const ch = open({ transports: ["websocket"] });
    const { closes } = record(ch);
    await next(ch, "open");
    await ch[Symbol.asyncDispose]();
    expect(closes).toEqual([{ code: 1000, reason: "closed by the client" }]);
    await waitFor(() => server.connectionCount === 0, "the server to see the close");
  });
});
