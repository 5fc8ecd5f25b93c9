/**
 * Transports as values (`@throughline/client/core`): each combination negotiates and delivers
 * over a real server on loopback, in the order listed; an SSE-only app behind a network that
 * blocks event streams reports the failure instead of hanging; bad lists are refused at
 * connect() with TL_INVALID_OPTION.
 */
import WebSocket from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { connect, longPoll, sse, websocket, type Channel, type CoreConnectOptions, type Transport } from "@throughline/client/core";
import { connect as connectDefault } from "@throughline/client";
import { ThroughlineError, type Message, type TransportName } from "@throughline/wire";
import { startHostileProxy, startTestServer, waitFor, within, type TestServer } from "@throughline/testkit";
import type { WebSocketConstructor } from "../../src/options.js";

const WS = WebSocket as unknown as WebSocketConstructor;
const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function server(): Promise<TestServer> {
  const s = await startTestServer();
  closers.push(() => s.close());
  return s;
}

/**
 * The next transport starts only when the one before fails (no stagger within a test's life), so
 * on a loaded machine a slow SSE proof cannot let the second transport win: the order is what
 * is tested.
 */
const NEGOTIATION = { rememberMs: false, staggerMs: 600_000 } as const;

function open(url: string, transports: Transport[], extra: Partial<CoreConnectOptions> = {}): Channel {
  const ch = connect(url, { topics: ["t"], transports, WebSocket: WS, reconnect: { minDelayMs: 20, maxDelayMs: 200 }, negotiation: NEGOTIATION, ...extra });
  closers.push(() => ch.close());
  ch.on("error", () => {});
  return ch;
}

const opened = (ch: Channel) => within(new Promise<{ transport: TransportName }>((r) => ch.on("open", r)), "open", 15_000);

const COMBINATIONS: Array<[string, Transport[]]> = [
  ["SSE, WebSocket, long-poll", [sse, websocket, longPoll]],
  ["SSE + long-poll", [sse, longPoll]],
  ["SSE only", [sse]],
  ["WebSocket only", [websocket]],
  ["WebSocket + long-poll", [websocket, longPoll]],
  ["long-poll only", [longPoll]],
  ["long-poll, then SSE", [longPoll, sse]],
];

describe.each(COMBINATIONS)("connect() of the core entry with %s", (_label, transports) => {
  it("opens on the first transport listed, delivers in order and sends", async () => {
    const s = await server();
    const ch = open(s.url, transports);
    const got: Message[] = [];
    ch.on("*", (m) => void got.push(m));
    const info = await opened(ch);
    expect(info.transport).toBe(transports[0]!.name);
    const ids = [s.rt.publish("t", 1), s.rt.publish("t", { two: 2 }), s.rt.publish("t", "three")];
    await waitFor(() => got.length === 3, "three messages", 15_000);
    expect(got.map((m) => [m.id, m.data])).toEqual([[ids[0], 1], [ids[1], { two: 2 }], [ids[2], "three"]]);
    await ch.send({ ack: 3 });
    await waitFor(() => s.received.length > 0, "the message at the server", 15_000);
    expect(s.received).toContainEqual({ ack: 3 });
    expect(ch.transport).toBe(transports[0]!.name);
  });
});

describe("an SSE-only app behind a network that blocks event streams", () => {
  it("reports TL_NO_TRANSPORT (the proxy's 403 as its cause) on every failed round instead of hanging", async () => {
    const s = await server();
    const proxy = await startHostileProxy(`http://127.0.0.1:${s.port}`, { kind: "block-event-stream" });
    closers.push(() => proxy.close());
    const ch = open(`${proxy.url}${new URL(s.url).pathname}`, [sse]);
    const errors: ThroughlineError[] = [];
    ch.on("error", (e) => void errors.push(e));
    await waitFor(() => errors.some((e) => e.code === "TL_NO_TRANSPORT"), "TL_NO_TRANSPORT", 15_000);
    const round = errors.find((e) => e.code === "TL_NO_TRANSPORT")!;
    expect(round.message).toContain("sse");
    expect((round.cause as ThroughlineError[]).map((e) => [e.code, e.status])).toContainEqual(["TL_HTTP_STATUS", 403]);
    expect(ch.readyState).toBe(0); // still retrying (the network may change), never open
  });

  it("closes with that error when reconnecting is off", async () => {
    const s = await server();
    const proxy = await startHostileProxy(`http://127.0.0.1:${s.port}`, { kind: "block-event-stream" });
    closers.push(() => proxy.close());
    const ch = open(`${proxy.url}${new URL(s.url).pathname}`, [sse], { reconnect: false });
    const closed = await within(new Promise<{ code: number; error?: ThroughlineError }>((r) => ch.on("close", r)), "close", 15_000);
    expect(closed.error?.code).toBe("TL_NO_TRANSPORT");
    expect(ch.readyState).toBe(2);
  });
});

describe("the default entry with transport values", () => {
  it("takes values and names mixed, in the order listed", async () => {
    const s = await server();
    const ch = connectDefault(s.url, { topics: ["t"], transports: [longPoll, "sse"], negotiation: NEGOTIATION });
    closers.push(() => ch.close());
    ch.on("error", () => {});
    expect((await opened(ch)).transport).toBe("long-poll");
  });
});

describe("validation at connect()", () => {
  const url = "http://127.0.0.1:1/realtime";
  const refused = (options: unknown) => {
    try {
      const ch = connect(url, options as CoreConnectOptions);
      ch.on("error", () => {});
      ch.close();
    } catch (e) {
      return (e as ThroughlineError).code;
    }
    return "accepted";
  };

  it("refuses names in the core entry (nothing bundled stands behind them), and a missing list", () => {
    expect(refused({ transports: ["sse"] })).toBe("TL_INVALID_OPTION");
    expect(refused({})).toBe("TL_INVALID_OPTION");
    expect(refused({ transports: [] })).toBe("TL_INVALID_OPTION");
  });

  it("refuses duplicates, foreign objects and a list with nothing runnable here", () => {
    expect(refused({ transports: [sse, sse] })).toBe("TL_INVALID_OPTION");
    expect(refused({ transports: [sse, { ...longPoll, name: "sse" }] })).toBe("TL_INVALID_OPTION");
    expect(refused({ transports: [{ name: "carrier-pigeon", create: () => ({}) }] })).toBe("TL_INVALID_OPTION");
    expect(refused({ transports: [{ name: "sse" }] })).toBe("TL_INVALID_OPTION");
    expect(refused({ transports: [{ name: "sse", create: sse.create }] })).toBe("TL_INVALID_OPTION"); // no proof rule
    expect(refused({ transports: [sse, null] })).toBe("TL_INVALID_OPTION");
    // Node 20 has no global WebSocket: only `websocket`, without the option, cannot run.
    if (typeof (globalThis as { WebSocket?: unknown }).WebSocket !== "function") {
      expect(refused({ transports: [websocket] })).toBe("TL_INVALID_OPTION");
    }
    expect(refused({ transports: [websocket], WebSocket: WS, reconnect: false })).toBe("accepted");
  });

  it("keeps refusing unknown names in the default entry", () => {
    expect(() => connectDefault(url, { transports: ["carrier-pigeon" as TransportName] })).toThrow(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
  });
});
