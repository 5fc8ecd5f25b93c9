import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect, type Channel, type ConnectOptions } from "@throughline/client/node";
import type { ThroughlineError, TransportName } from "@throughline/wire";
import { startFakeServer, type FakeServer } from "./helpers/fake-server.js";
import { next, sleep, waitFor } from "./helpers/wait.js";

const FAST = { reconnect: { minDelayMs: 10, maxDelayMs: 200 } } satisfies ConnectOptions;
const ROUTE = { sse: "/sse", websocket: "/ws", "long-poll": "/poll" } as const;

describe.each(["sse", "websocket", "long-poll"] as const)("server close codes over %s", (name: TransportName) => {
  let server: FakeServer;
  let ch: Channel | undefined;

  beforeEach(async () => {
    server = await startFakeServer();
  });
  afterEach(async () => {
    ch?.close();
    ch = undefined;
    await server.close();
  });

  const open = async () => {
    ch = connect(server.url, { ...FAST, transports: [name] });
    await next(ch, "open");
    await waitFor(() => server.connectionCount === 1, "a live connection");
    return ch;
  };
  /** Connection requests: every SSE/WS request; for long-poll only the first poll of each new session. */
  const connects = () => server.hits(ROUTE[name]).filter((r) => name !== "long-poll" || !r.query.has("session") || r.query.get("propose") === "1");

  it("closes for good on 1000 without an error and never reconnects", async () => {
    const c = await open();
    const errors: unknown[] = [];
    c.on("error", (e) => errors.push(e));
    const closed = next<{ code: number; reason: string; error?: unknown }>(c, "close");
    server.closeAll(1000, "bye");
    expect(await closed).toEqual({ code: 1000, reason: "bye" });
    expect(c.readyState).toBe(2);
    await sleep(300);
    expect(connects()).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it("reconnects on 1001 and resumes the same stream", async () => {
    const c = await open();
    const states: number[] = [];
    c.on("state", (s) => states.push(s));
    const reopened = next(c, "open");
    server.closeAll(1001, "restarting");
    await reopened;
    expect(states).toEqual([0, 1]);
    expect(connects()).toHaveLength(2);
    expect(c.readyState).toBe(1);
  });

  it("ends with an error on 4403 and does not reconnect", async () => {
    const c = await open();
    const errors: ThroughlineError[] = [];
    c.on("error", (e) => errors.push(e));
    const closed = next<{ code: number; error?: ThroughlineError }>(c, "close");
    server.closeAll(4403, "go away");
    const info = await closed;
    expect(info.code).toBe(4403);
    expect(info.error).toMatchObject({ code: "TL_FORBIDDEN", closeCode: 4403 });
    expect(errors).toEqual([info.error]);
    await sleep(300);
    expect(connects()).toHaveLength(1);
  });

  it("starts a new session after 4404, still resuming from its cursor", async () => {
    const c = await open();
    const got: unknown[] = [];
    c.on("*", (m) => got.push(m.data));
    const errors: ThroughlineError[] = [];
    c.on("error", (e) => errors.push(e));
    const first = server.publish("t", "one");
    await waitFor(() => got.length === 1, "the first message");
    const reopened = next(c, "open");
    if (name === "long-poll") {
      server.forgetSessions();
      server.closeAll(4404, "expired");
    } else {
      server.forgetSessions();
      server.dropAll();
    }
    await reopened;
    const firstSession = connects()[0]!.query.get("session");
    expect(c.session).not.toBe(firstSession);
    expect(c.readyState).toBe(1);
    const last = connects().at(-1)!;
    // A new session: the client proposes a fresh id (QUERY.propose), as on its first request.
    expect(last.query.get("session")).toBe(c.session);
    expect(last.query.get("propose")).toBe("1");
    const cursor = name === "sse" ? last.headers["last-event-id"] : last.query.get("cursor");
    expect(cursor).toBe(first);
    expect(errors.map((e) => e.code).filter((c) => c !== "TL_CONNECTION_LOST")).toEqual([]);
    if (name !== "long-poll") {
      expect(connects().map((r) => r.query.get("session"))).toEqual([firstSession, firstSession, c.session]);
      expect(connects().map((r) => r.query.get("propose"))).toEqual(["1", null, "1"]);
    }
  });
});
