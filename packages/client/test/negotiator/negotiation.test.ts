/**
 * The negotiator inside a channel, against the client's fake server on loopback: proof and
 * failure classes per transport, the diagnostics, application rejections (one token refresh, no
 * fallback), and the memory of the last proven transport.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect, createMapMemory, type AttemptRecord, type Channel, type ConnectOptions } from "@throughline/client/node";
import { MARKER_HEADER, MARKER_VALUE, type ThroughlineError } from "@throughline/wire";
import { startFakeServer, type FakeServer } from "../helpers/fake-server.js";
import { hello, msg, writeError, writeSse } from "../helpers/scripted.js";
import { next, waitFor } from "../helpers/wait.js";

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

/**
 * A channel on the fake server. Its fetch paces the SSE proof probe after the client's own read
 * of the hello (fake-server.ts), and a second transport starts only once the first failed (not
 * after a stagger delay): which transport wins depends on what each one does, not on how fast a
 * loaded machine runs the first one.
 */
function open(options: ConnectOptions = {}): { ch: Channel; attempts: AttemptRecord[]; errors: ThroughlineError[] } {
  const ch = connect(server.url, {
    reconnect: { minDelayMs: 10, maxDelayMs: 100 },
    fetch: server.fetch,
    ...options,
    negotiation: { rememberMs: false, proofTimeoutMs: 1_000, staggerMs: 5_000, ...options.negotiation },
  });
  channels.push(ch);
  const attempts: AttemptRecord[] = [];
  const errors: ThroughlineError[] = [];
  // The first round's long-poll scout (raced alongside for a fast first message) has its own tests.
  ch.on("attempt", (a) => void (a.purpose !== "scout" && attempts.push(a)));
  ch.on("error", (e) => void errors.push(e));
  return { ch, attempts, errors };
}

describe("early delivery while proving", () => {
  it("hands messages of the first attempt to the app before its proof, and the winner resumes after them", async () => {
    for (const n of [1, 2, 3]) server.publish("t", n);
    // SSE delivers the first two messages, then its probe never comes (a held stream).
    server.intercept = (_req, res, route) => {
      if (route !== "/sse") return false;
      writeSse(res, [hello({ cursor: "ep1-0" }), msg("ep1-1", 1), msg("ep1-2", 2)]);
      return true;
    };
    // Without long-poll: no scout, so the first attempt's own early delivery is what is seen.
    const { ch, attempts } = open({ cursor: "ep1-0", topics: ["t"], transports: ["sse", "websocket"], negotiation: { staggerMs: 5_000 } });
    const seen: Array<[unknown, number]> = [];
    ch.on("*", (m) => void seen.push([m.data, ch.readyState]));
    await next(ch, "open");
    await waitFor(() => seen.length >= 3, "third message");
    expect(seen).toEqual([
      [1, 0], // CONNECTING: SSE is still being proven
      [2, 0],
      [3, 1], // OPEN, on the WebSocket that won
    ]);
    expect(ch.transport).toBe("websocket");
    expect(attempts.find((x) => x.transport === "sse")).toMatchObject({ outcome: "buffered" });
    // The WebSocket attempt opened from the cursor the early messages had moved.
    expect(server.requests.find((r) => r.route === "/ws")!.query.get("cursor")).toBe("ep1-2");
  });

  it("starts a long-poll scout when the stream says nothing, delivers through it at once, and still ends on the stream that proves", async () => {
    // SSE: headers, then nothing (a proxy holding the stream).
    server.intercept = (_req, res, route) => {
      if (route !== "/sse") return false;
      res.writeHead(200, { "content-type": "text/event-stream", [MARKER_HEADER]: MARKER_VALUE });
      return true;
    };
    const { ch } = open({ topics: ["t"] });
    const seen: Array<[unknown, number]> = [];
    ch.on("*", (m) => void seen.push([m.data, ch.readyState]));
    await waitFor(() => server.hits("/poll").length >= 2, "the scout polling");
    server.publish("t", "first");
    await waitFor(() => seen.length >= 1, "the first message");
    expect(seen[0]).toEqual(["first", 0]); // delivered while the race is still on, through the scout
    await next(ch, "open");
    server.publish("t", "second");
    await waitFor(() => seen.length >= 2, "the second message");
    expect(seen.map((x) => x[0])).toEqual(["first", "second"]);
    expect(ch.transport).toBe("websocket"); // the scout is dropped: the channel ends on a stream
    const scout = ch.diagnostics.find((a) => a.purpose === "scout")!;
    expect(scout).toMatchObject({ transport: "long-poll" });
    // The scout and the stream attempts joined one session (the client's proposal).
    const sessions = new Set(server.requests.filter((r) => r.query.get("connect") === "1" || r.route !== "/poll").map((r) => r.query.get("session")));
    expect(sessions.size).toBe(1);
  });

  it("stops early delivery once a second attempt opens, so nothing between them is skipped", async () => {
    server.intercept = (_req, res, route) => {
      if (route === "/sse") {
        // The SSE hello and a message come only after the long-poll attempt opened live (the
        // app had no cursor yet): delivered early, they would leave a hole before its head.
        setTimeout(() => {
          if (!res.destroyed) writeSse(res, [hello({ cursor: "ep1-0" }), msg("ep1-1", "early")]);
        }, 250);
        return true;
      }
      if (route === "/poll") {
        setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(200, { "content-type": "application/json", [MARKER_HEADER]: MARKER_VALUE });
          res.end(JSON.stringify([hello({ transport: "long-poll", cursor: "ep1-5", holdMs: 400 })]));
        }, 500);
        return true;
      }
      return false;
    };
    const { ch } = open({ topics: ["t"], transports: ["sse", "long-poll"], reconnect: false, negotiation: { staggerMs: 100 } });
    const seen: unknown[] = [];
    ch.on("*", (m) => void seen.push(m.data));
    await next(ch, "open");
    expect(ch.transport).toBe("long-poll");
    expect(seen).toEqual([]);
  });
});

describe("proof per transport", () => {
  it("proves SSE by a hello and a later probe in separate deliveries, and records the chunks and timings", async () => {
    // A generous proof bound: a loaded machine may take a while to connect at all.
    const { ch, attempts } = open({ negotiation: { proofTimeoutMs: 5_000 } });
    await next(ch, "open");
    expect(ch.transport).toBe("sse");
    expect(attempts).toHaveLength(1);
    const a = attempts[0]!;
    expect(a).toMatchObject({ transport: "sse", outcome: "proven", purpose: "connect" });
    expect(a.chunks!.probe!).toBeGreaterThan(a.chunks!.hello!);
    expect(a.helloMs!).toBeLessThanOrEqual(a.provenMs!);
    expect(a.openedMs!).toBeLessThanOrEqual(a.helloMs!);
    // Every record is also in the diagnostics. (Whether the long-poll scout starts depends on how
    // soon the hello comes, 50 ms of real time here: channel-clock.test.ts tests it on a manual clock.)
    expect(ch.diagnostics.filter((x) => x.purpose !== "scout")).toEqual(attempts);
  });

  it("classifies an SSE stream whose hello comes but whose probe never does as buffered, and falls back", async () => {
    server.intercept = (_req, res, route) => {
      if (route !== "/sse") return false;
      writeSse(res, [hello()]);
      return true;
    };
    const { ch, attempts, errors } = open({ negotiation: { staggerMs: 5_000 } });
    await next(ch, "open");
    expect(ch.transport).toBe("websocket");
    expect(attempts.find((x) => x.transport === "sse")).toMatchObject({ outcome: "buffered", error: { code: "TL_CONNECT_TIMEOUT" } });
    expect(errors.map((e) => e.code)).toEqual(["TL_CONNECT_TIMEOUT"]);
  });

  it("classifies an SSE request that gets no answer at all as timed out", async () => {
    server.intercept = (_req, _res, route) => route === "/sse"; // never answers
    const { ch, attempts } = open({ negotiation: { staggerMs: 5_000 } });
    await next(ch, "open");
    expect(attempts.find((x) => x.transport === "sse")).toMatchObject({ outcome: "timeout", openedMs: undefined });
  });

  it("classifies a proxy's own 403 page as blocked and goes on at once", async () => {
    server.intercept = (_req, res, route) => {
      if (route !== "/sse") return false;
      writeError(res, 403, "TL_FORBIDDEN", false);
      return true;
    };
    const { ch, attempts } = open({ negotiation: { staggerMs: 5_000 } });
    await next(ch, "open");
    expect(ch.transport).toBe("websocket");
    expect(attempts.map((x) => [x.transport, x.outcome])).toEqual([["sse", "blocked"], ["websocket", "proven"]]);
  });

  it("proves a WebSocket by a probe round trip after the hello", async () => {
    const { ch, attempts } = open({ transports: ["websocket", "long-poll"] });
    await next(ch, "open");
    expect(attempts[0]).toMatchObject({ transport: "websocket", outcome: "proven" });
    expect(attempts[0]!.reason).toContain("round trip");
  });

  it("proves long-poll by its first poll", async () => {
    const { ch, attempts } = open({ transports: ["long-poll", "sse"] });
    await next(ch, "open");
    expect(attempts[0]).toMatchObject({ transport: "long-poll", outcome: "proven", reason: "first poll returned" });
  });
});

describe("rejections by the application", () => {
  it("surfaces a marked 401 after one token refresh, without trying another transport", async () => {
    server.intercept = (_req, res, route) => {
      if (route !== "/sse") return false;
      writeError(res, 401, "TL_UNAUTHORIZED", true);
      return true;
    };
    let tokens = 0;
    const { ch, attempts } = open({ token: () => `t${++tokens}` });
    const closed = next<{ code: number; error?: ThroughlineError }>(ch, "close");
    const info = await closed;
    expect(info.error?.code).toBe("TL_UNAUTHORIZED");
    expect(server.hits("/sse")).toHaveLength(2);
    expect(server.hits("/ws")).toHaveLength(0);
    // At most the first round's scout poll (if the refusal took longer than its delay), never retried.
    expect(server.hits("/poll").filter((r) => r.query.get("connect") === "1").length).toBeLessThanOrEqual(1);
    // One refresh: the second SSE request carried a new token.
    const bearers = server.hits("/sse").map((r) => r.headers.authorization);
    expect(new Set(bearers).size).toBe(2);
    expect(attempts.map((a) => a.outcome)).toEqual(["rejected", "rejected"]);
  });

  it("surfaces a marked 403 at once when there is no token function to refresh", async () => {
    server.intercept = (_req, res, route) => {
      if (route !== "/sse") return false;
      writeError(res, 403, "TL_FORBIDDEN", true);
      return true;
    };
    const { ch } = open({ token: "static" });
    const info = await next<{ error?: ThroughlineError }>(ch, "close");
    expect(info.error?.code).toBe("TL_FORBIDDEN");
    expect(server.hits("/sse")).toHaveLength(1);
    expect(server.hits("/ws")).toHaveLength(0);
  });
});

describe("memory of the last proven transport", () => {
  it("tries the remembered transport first and remembers what was proven", async () => {
    const memory = createMapMemory();
    memory.set(server.url, "long-poll", Date.now());
    const { ch, attempts } = open({ negotiation: { rememberMs: 60_000, memory } });
    await next(ch, "open");
    expect(attempts[0]).toMatchObject({ transport: "long-poll", outcome: "proven" });
    expect(memory.get(server.url)?.transport).toBe("long-poll");
  });

  it("ignores an expired memory", async () => {
    const memory = createMapMemory();
    memory.set(server.url, "long-poll", Date.now() - 120_000);
    const { ch, attempts } = open({ negotiation: { rememberMs: 60_000, memory } });
    await next(ch, "open");
    expect(attempts[0]!.transport).toBe("sse");
    expect(memory.get(server.url)?.transport).toBe("sse");
  });

  it("falls back as usual when the remembered transport fails, and remembers the new one", async () => {
    const memory = createMapMemory();
    memory.set(server.url, "websocket", Date.now());
    server.interceptUpgrade = (_req, socket) => {
      socket.destroy();
      return true;
    };
    const { ch, attempts } = open({ negotiation: { rememberMs: 60_000, memory } });
    await next(ch, "open");
    expect(attempts[0]).toMatchObject({ transport: "websocket", outcome: "blocked" });
    expect(ch.transport).toBe("sse");
    await waitFor(() => memory.get(server.url)?.transport === "sse", "the memory to be updated");
  });
});

describe("options", () => {
  it("refuses out-of-range negotiation options with TL_INVALID_OPTION", () => {
    for (const negotiation of [{ staggerMs: -1 }, { proofTimeoutMs: 0 }, { climbMinDelayMs: 10, climbMaxDelayMs: 5 }, { burstPairs: 0 }, { quietFactor: 0.5 }]) {
      expect(() => connect(server.url, { negotiation })).toThrow(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
    }
  });
});
