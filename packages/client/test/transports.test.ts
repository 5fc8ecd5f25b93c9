import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { connect, type Channel, type ConnectOptions, type Message } from "@throughline/client/node";
import { MIN_PROPOSED_SESSION_CHARS, isSessionId, type TransportName } from "@throughline/wire";
import { startFakeServer, type FakeServer } from "./helpers/fake-server.js";
import { next, sleep, waitFor } from "./helpers/wait.js";

const FAST = { reconnect: { minDelayMs: 10, maxDelayMs: 200 } } satisfies ConnectOptions;

describe.each(["sse", "websocket", "long-poll"] as const)("the %s transport", (name: TransportName) => {
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

  const open = async (extra: ConnectOptions = {}) => {
    const ch = connect(server.url, { ...FAST, transports: [name], ...extra });
    channels.push(ch);
    await next(ch, "open");
    return ch;
  };
  const collect = (ch: Channel) => {
    const got: Message[] = [];
    ch.on("*", (m) => got.push(m));
    return got;
  };

  it("opens with the hello's session and reports itself as the transport", async () => {
    const ch = connect(server.url, { ...FAST, transports: [name] });
    channels.push(ch);
    const events: unknown[] = [];
    ch.on("transport", (t) => events.push(["transport", t]));
    ch.on("state", (s) => events.push(["state", s]));
    const info = await next<{ transport: string; session: string }>(ch, "open");
    // The session is the id the client proposed on its first request (issue #10).
    const proposed = server.hits({ sse: "/sse", websocket: "/ws", "long-poll": "/poll" }[name])[0]!.query.get("session")!;
    // Four random 32-bit words (128 bits), padded to a proposal's minimum length; a valid session id.
    expect(proposed).toMatch(/^\d{1,10}(-\d{1,10}){3}-*$/);
    expect(proposed.length).toBeGreaterThanOrEqual(MIN_PROPOSED_SESSION_CHARS);
    expect(isSessionId(proposed)).toBe(true);
    expect(info).toEqual({ transport: name, session: proposed });
    expect(events).toEqual([["transport", { transport: name, previous: null }], ["state", 1]]);
    expect(ch.readyState).toBe(1);
    expect(ch.transport).toBe(name);
    expect(ch.session).toBe(proposed);
    expect(ch.cursor).toBe("ep1-0");
  });

  it("pads a proposed session id made of small words to a proposal's minimum length", async () => {
    // Every word 0: the shortest draw ("0-0-0-0") still makes a 22-character proposal.
    vi.spyOn(globalThis.crypto, "getRandomValues").mockImplementationOnce((a) => a);
    try {
      const ch = connect(server.url, { ...FAST, transports: [name] });
      channels.push(ch);
      const info = await next<{ session: string }>(ch, "open");
      expect(info.session).toBe("0-0-0-0---------------");
    } finally {
      vi.restoreAllMocks();
    }
  });

  it("delivers messages in order to '*', to their event name and to iterators", async () => {
    const ch = await open({ topics: ["a", "b"] });
    const all = collect(ch);
    const shipped: Message[] = [];
    ch.on("shipped", (m) => shipped.push(m));
    const plain: Message[] = [];
    ch.on("message", (m) => plain.push(m));
    const iter = ch[Symbol.asyncIterator]();
    const ids = [server.publish("a", { n: 1 }), server.publish("c", "not subscribed"), server.publish("b", "two\nlines", "shipped"), server.publish("a", null)];
    await waitFor(() => all.length >= 3, "three messages");
    expect(all).toEqual([
      { id: ids[0], topic: "a", event: "message", data: { n: 1 } },
      { id: ids[2], topic: "b", event: "shipped", data: "two\nlines" },
      { id: ids[3], topic: "a", event: "message", data: null },
    ]);
    expect(shipped.map((m) => m.id)).toEqual([ids[2]]);
    expect(plain.map((m) => m.id)).toEqual([ids[0], ids[3]]);
    expect(ch.cursor).toBe(ids[3]);
    expect((await iter.next()).value).toEqual(all[0]);
    expect((await iter.next()).value).toEqual(all[1]);
  });

  it("sends client messages that reach the server", async () => {
    const ch = await open();
    await ch.send({ hello: "wörld" });
    await ch.send([1, 2]);
    await waitFor(() => server.received.filter((f) => f.type === "message").length === 2, "two messages at the server");
    expect(server.received.filter((f) => f.type === "message")).toEqual([
      { type: "message", data: { hello: "wörld" } },
      { type: "message", data: [1, 2] },
    ]);
  });

  it("queues a send made while connecting until the channel opens", async () => {
    const ch = connect(server.url, { ...FAST, transports: [name] });
    channels.push(ch);
    const sent = ch.send("early");
    expect(ch.readyState).toBe(0);
    await sent;
    await waitFor(() => server.received.some((f) => f.type === "message"), "the early message");
    expect(server.received.find((f) => f.type === "message")).toEqual({ type: "message", data: "early" });
  });

  it("rejects data JSON cannot carry with TL_BAD_DATA", async () => {
    const ch = await open();
    await expect(ch.send(undefined)).rejects.toMatchObject({ code: "TL_BAD_DATA" });
    await expect(ch.send(() => 1)).rejects.toMatchObject({ code: "TL_BAD_DATA" });
    await expect(ch.send(10n)).rejects.toMatchObject({ code: "TL_BAD_DATA" });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(ch.send(cyclic)).rejects.toMatchObject({ code: "TL_BAD_DATA" });
    expect(ch.readyState).toBe(1);
  });

  it("closes once with code 1000, tells the server, and rejects later sends with TL_CLOSED", async () => {
    const ch = await open();
    const closes: unknown[] = [];
    ch.on("close", (c) => closes.push(c));
    ch.close();
    ch.close();
    expect(ch.readyState).toBe(2);
    expect(closes).toEqual([]); // emitted asynchronously, never inside close()
    await waitFor(() => closes.length === 1, "the close event");
    await expect(ch.send("late")).rejects.toMatchObject({ code: "TL_CLOSED" });
    if (name === "websocket") await waitFor(() => server.connectionCount === 0, "the server to see the socket close");
    else await waitFor(() => server.received.some((f) => f.type === "close"), "the close frame at the server");
    await sleep(50);
    expect(closes).toEqual([{ code: 1000, reason: "closed by the client" }]);
  });

  it("reconnects after the server drops the connection and resumes from its cursor", async () => {
    const ch = await open();
    const got = collect(ch);
    const errors: unknown[] = [];
    ch.on("error", (e) => errors.push(e));
    server.publish("t", 1);
    const second = server.publish("t", 2);
    await waitFor(() => got.length === 2, "two messages");
    // Long-poll: drop while a poll is held, not between two polls.
    await waitFor(() => server.connectionCount === 1, "a live connection");
    const reopened = next(ch, "open");
    server.dropAll();
    server.publish("t", 3); // published while the client is away: comes back by replay
    await reopened;
    server.publish("t", 4);
    await waitFor(() => got.length === 4, "four messages");
    expect(got.map((m) => m.data)).toEqual([1, 2, 3, 4]);
    expect(errors).toContainEqual(expect.objectContaining({ code: "TL_CONNECTION_LOST" }));
    const resume = name === "sse" ? server.hits("/sse")[1]! : name === "websocket" ? server.hits("/ws")[1]! : server.hits("/poll").filter((r) => r.query.get("connect") === "1")[1]!;
    // A long-poll reconnect keeps its session (QUERY.connect marks the new connection).
    if (name === "long-poll") expect(resume.query.get("session")).toBe(ch.session);
    const sentCursor = name === "sse" ? resume.headers["last-event-id"] : resume.query.get("cursor");
    expect(sentCursor).toBe(second);
  });
});
