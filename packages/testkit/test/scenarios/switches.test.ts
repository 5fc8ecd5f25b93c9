/**
 * Switches down and up, over a real server and a network that changes under an open channel:
 * every message published continuously across the switch arrives once and in order, and the
 * session survives (the new connection resumes from the cursor in the same session).
 */
import { afterEach, describe, expect, it } from "vitest";
import { connect, type Channel, type ConnectOptions } from "@throughline/client/node";
import { parseId, type Message, type TransportName } from "@throughline/wire";
import { startTestServer, type TestServer } from "../../src/harness.js";
import { startHostileProxy } from "../../src/hostile/proxy.js";
import { waitFor, within } from "../../src/wait.js";
import { startToggleProxy, type ToggleProxy } from "../../src/hostile/toggle.js";

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** Publishes `count` messages on topic "s", one every `everyMs`, in the background. */
function publisher(server: TestServer, count: number, everyMs: number) {
  const ids: string[] = [];
  let stop = false;
  const done = (async () => {
    for (let i = 0; i < count && !stop; i++) {
      ids.push(server.rt.publish("s", i));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  closers.push(() => {
    stop = true;
    return done;
  });
  return { ids, done };
}

function open(url: string, options: ConnectOptions = {}) {
  const ch = connect(url, { topics: ["s"], reconnect: { minDelayMs: 50, maxDelayMs: 500 }, ...options, negotiation: { rememberMs: false, ...options.negotiation } });
  closers.push(() => ch.close());
  const got: Message[] = [];
  const transports: TransportName[] = [];
  ch.on("*", (m: Message) => void got.push(m));
  ch.on("transport", (t: { transport: TransportName }) => void transports.push(t.transport));
  ch.on("error", () => {});
  return { ch, got, transports };
}

/** Every id of `published` exactly once, in order. */
function expectExactlyOnceInOrder(got: readonly Message[], published: readonly string[]) {
  expect(got.map((m) => m.id)).toEqual(published);
  const seqs = got.map((m) => parseId(m.id)!.seq);
  expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
}

async function setup(serverOptions = {}) {
  const server = await startTestServer(serverOptions);
  closers.push(() => server.close());
  const proxy: ToggleProxy = await startToggleProxy(server.port);
  closers.push(() => proxy.close());
  return { server, proxy, url: `${proxy.url}${new URL(server.url).pathname}` };
}

const opened = (ch: Channel) => waitFor(() => ch.readyState === 1, "the channel to open", 10_000);

describe("switching transports without loss or duplicates", () => {
  it("switches down to WebSocket when SSE heartbeats start arriving late", async () => {
    const { server, proxy, url } = await setup({ heartbeatMs: 300 });
    const { ch, got, transports } = open(url, { negotiation: { lateMs: 600, climbMinDelayMs: false } });
    await opened(ch);
    expect(ch.transport).toBe("sse");
    const session = ch.session;
    const pub = publisher(server, 60, 40);
    await waitFor(() => got.length >= 5, "a few messages over SSE");
    proxy.delayMs = 1_500;
    proxy.mode = "delay";
    await within(pub.done, "publishing", 20_000);
    await waitFor(() => got.length >= pub.ids.length, "every message", 15_000);
    expect(ch.transport).toBe("websocket");
    expect(transports).toEqual(["sse", "websocket"]);
    expect(ch.session).toBe(session);
    expect(ch.diagnostics.some((a) => a.transport === "sse" && a.outcome === "degraded")).toBe(true);
    expect(ch.diagnostics.some((a) => a.transport === "websocket" && a.purpose === "switch-down" && a.outcome === "proven")).toBe(true);
    await new Promise((r) => setTimeout(r, 1_600)); // the delayed SSE chunks of the old link come too late to matter
    expectExactlyOnceInOrder(got, pub.ids);
  });

  it("climbs back to SSE in the background once the network lets it through again", async () => {
    const { server, proxy, url } = await setup();
    proxy.mode = "block-sse";
    const { ch, got, transports } = open(url, { negotiation: { climbMinDelayMs: 300, climbMaxDelayMs: 1_200 } });
    await opened(ch);
    expect(ch.transport).toBe("websocket");
    const session = ch.session;
    const pub = publisher(server, 50, 40);
    await waitFor(() => got.length >= 5, "a few messages over WebSocket");
    proxy.mode = "pass";
    await within(pub.done, "publishing", 20_000);
    await waitFor(() => ch.transport === "sse", "the climb back to SSE", 10_000);
    await waitFor(() => got.length >= pub.ids.length, "every message", 10_000);
    expect(transports).toEqual(["websocket", "sse"]);
    expect(ch.session).toBe(session);
    expect(ch.diagnostics.some((a) => a.transport === "sse" && a.purpose === "climb" && a.outcome === "proven")).toBe(true);
    expectExactlyOnceInOrder(got, pub.ids);
  });

  it("switches on demand through every transport (ch.switchTransport) keeping the session", async () => {
    const { server, url } = await setup();
    const { ch, got, transports } = open(url);
    await opened(ch);
    const session = ch.session;
    // ≈16 messages/s: long-poll polls once per answer and the server allows 20 polls/s per session.
    const pub = publisher(server, 40, 60);
    for (const t of ["long-poll", "websocket", "sse", "long-poll"] as const) {
      await waitFor(() => got.length > 0, "messages");
      await within(ch.switchTransport(t), `switch to ${t}`, 10_000);
      expect(ch.transport).toBe(t);
      expect(ch.session).toBe(session);
    }
    await within(pub.done, "publishing", 20_000);
    await waitFor(() => got.length >= pub.ids.length, "every message", 10_000);
    expect(transports, JSON.stringify(ch.diagnostics.map((a) => `${a.transport}:${a.purpose}:${a.outcome}:${a.reason}`))).toEqual(["sse", "long-poll", "websocket", "sse", "long-poll"]);
    expectExactlyOnceInOrder(got, pub.ids);
    // Only the current connection stays: the old ones were closed after each switch.
    await waitFor(() => server.rt.connectionCount === 1, "one connection left on the server", 10_000);
  });

  it("refuses an unknown transport name with TL_INVALID_OPTION and stays where it is", async () => {
    const { url } = await setup();
    const { ch } = open(url);
    await opened(ch);
    await expect(ch.switchTransport("carrier-pigeon" as TransportName)).rejects.toMatchObject({ code: "TL_INVALID_OPTION" });
    expect(ch.transport).toBe("sse");
  });

  it("does not accept SSE through a proxy that holds the first event until the second (no replay to hide it)", async () => {
    const server = await startTestServer();
    closers.push(() => server.close());
    const proxy = await startHostileProxy(`http://127.0.0.1:${server.port}`, [{ kind: "hold-first-event" }]);
    closers.push(() => proxy.close());
    const { ch } = open(`${proxy.url}${new URL(server.url).pathname}`);
    await opened(ch);
    expect(ch.transport).toBe("websocket");
    await waitFor(() => ch.diagnostics.some((a) => a.transport === "sse" && a.outcome !== "cancelled"), "the SSE attempt's outcome", 10_000);
    expect(ch.diagnostics.find((a) => a.transport === "sse")!.outcome).toBe("buffered");
  });
});
