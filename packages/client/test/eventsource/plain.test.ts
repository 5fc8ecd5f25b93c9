/**
 * The EventSource facade against a plain SSE server (not Throughline): WHATWG HTML §9.2 exactly —
 * events, Last-Event-ID on reconnect (also from an id-only block), `retry:` honoured and clamped,
 * 204 / error statuses / a wrong Content-Type fail without reconnecting, custom headers.
 */
import { afterEach, describe, expect, it } from "vitest";
import { EventSource, EventSourceErrorEvent, isEventStream } from "@throughline/client/eventsource";
import { SYSTEM_CLOCK, type Clock } from "@throughline/client";
import { startPlainServer, stream, type PlainServer, type Script } from "./plain-server.js";
import { sleep, waitFor } from "../helpers/wait.js";

let server: PlainServer | undefined;
let source: EventSource | undefined;

afterEach(async () => {
  source?.close();
  await server?.close();
  server = source = undefined;
});

/** The real clock, recording every delay the facade asks for (reconnection times). */
function recordingClock(): Clock & { delays: number[] } {
  const delays: number[] = [];
  return { ...SYSTEM_CLOCK, delays, setTimeout: (fn, ms) => (delays.push(ms), SYSTEM_CLOCK.setTimeout(fn, ms)) };
}

interface Log {
  events: { type: string; data: string; lastEventId: string; origin: string; state: number }[];
  errors: { code: string | undefined; state: number }[];
  opens: number;
}

function watch(es: EventSource, types: string[] = []): Log {
  const log: Log = { events: [], errors: [], opens: 0 };
  const push = (e: Event) => {
    const m = e as MessageEvent<string>;
    log.events.push({ type: m.type, data: m.data, lastEventId: m.lastEventId, origin: m.origin, state: es.readyState });
  };
  es.onmessage = push;
  for (const t of types) es.addEventListener(t, push);
  es.onopen = () => log.opens++;
  es.onerror = (e) => log.errors.push({ code: (e as EventSourceErrorEvent).code, state: es.readyState });
  return log;
}

async function start(scripts: Script[]): Promise<PlainServer> {
  server = await startPlainServer(scripts);
  return server;
}

describe("EventSource facade on a plain SSE server", () => {
  it("dispatches MessageEvents with type, data, lastEventId and origin; readyState CONNECTING → OPEN", async () => {
    const s = await start([stream("data: one\n\nevent: price\nid: 7\ndata: 1.5\ndata: 2\n\ndata: two\n\n", { hold: true })]);
    const es = (source = new EventSource(s.url, { protocol: "sse" }));
    expect(es.readyState).toBe(EventSource.CONNECTING);
    expect(es.url).toBe(s.url);
    expect(es.withCredentials).toBe(false);
    const log = watch(es, ["price"]);
    await waitFor(() => log.events.length === 3, "three events");
    const origin = new URL(s.url).origin;
    expect(log.events).toEqual([
      { type: "message", data: "one", lastEventId: "", origin, state: EventSource.OPEN },
      { type: "price", data: "1.5\n2", lastEventId: "7", origin, state: EventSource.OPEN },
      { type: "message", data: "two", lastEventId: "7", origin, state: EventSource.OPEN },
    ]);
    expect(log.opens).toBe(1);
    expect(s.requests[0]!.accept).toBe("text/event-stream");
    expect(s.requests[0]!["last-event-id"]).toBeUndefined();
  });

  it("reconnects after the stream ends, sending the last event ID — also one set by an id-only block — and headers", async () => {
    const s = await start([stream("id: 1\ndata: a\n\nid: 2\n\n"), stream("data: b\n\n"), stream("retry: 5\n", { hold: true })]);
    const clock = recordingClock();
    const es = (source = new EventSource(s.url, { protocol: "sse", headers: { authorization: "Bearer abc" }, retryMs: 20, minRetryMs: 10, clock }));
    const log = watch(es);
    await waitFor(() => s.requests.length === 3, "two reconnects");
    expect(s.requests.map((r) => r["last-event-id"])).toEqual([undefined, "2", "2"]);
    expect(s.requests.map((r) => r.authorization)).toEqual(["Bearer abc", "Bearer abc", "Bearer abc"]);
    expect(log.events.map((e) => [e.data, e.lastEventId])).toEqual([["a", "1"], ["b", "2"]]);
    // Each end of stream: CONNECTING + error (TL_CONNECTION_LOST), then a new open.
    expect(log.errors).toEqual([
      { code: "TL_CONNECTION_LOST", state: EventSource.CONNECTING },
      { code: "TL_CONNECTION_LOST", state: EventSource.CONNECTING },
    ]);
    await waitFor(() => log.opens === 3, "the third open");
    expect(clock.delays).toEqual([20, 20]);
  });

  it("honours retry: and clamps it to [minRetryMs, maxRetryMs]", async () => {
    const s = await start([stream("retry: 1\ndata: a\n\n"), stream("retry: 999999\ndata: b\n\n"), stream("retry: 30\n\n"), stream(": held\n", { hold: true })]);
    const clock = recordingClock();
    source = new EventSource(s.url, { protocol: "sse", minRetryMs: 15, maxRetryMs: 40, clock });
    await waitFor(() => s.requests.length === 4, "three reconnects");
    expect(clock.delays).toEqual([15, 40, 30]);
  });

  it("reconnects after a network error with CONNECTING and an error event", async () => {
    const s = await start([(req) => req.socket.destroy(), stream("data: back\n\n", { hold: true })]);
    const es = (source = new EventSource(s.url, { protocol: "sse", retryMs: 10, minRetryMs: 0 }));
    const log = watch(es);
    await waitFor(() => log.events.length === 1, "the event after the reconnect");
    expect(log.errors).toEqual([{ code: "TL_CONNECT_FAILED", state: EventSource.CONNECTING }]);
    expect(log.events[0]!.data).toBe("back");
  });

  const redirectTo404: Script = (req, res) => (req.url === "/events" ? res.writeHead(302, { location: "/gone" }).end() : res.writeHead(404).end());
  it.each([
    ["204 No Content", stream("", { status: 204 }), "TL_HTTP_STATUS", 1],
    ["500", stream("data: x\n\n", { status: 500 }), "TL_HTTP_STATUS", 1],
    ["a redirect to a 404", redirectTo404, "TL_HTTP_STATUS", 2],
    ["text/html (a proxy's page)", stream("<html>", { type: "text/html" }), "TL_NOT_EVENT_STREAM", 1],
    ["no Content-Type (WPT format-mime-bogus)", ((_req, res) => res.writeHead(200).end("data: x\n\n")) as Script, "TL_NOT_EVENT_STREAM", 1],
    ["text/event-stream-x", stream("data: x\n\n", { type: "text/event-stream-x" }), "TL_NOT_EVENT_STREAM", 1],
  ] as const)("fails without reconnecting on %s", async (_name, script, code, requests) => {
    const s = await start([script]);
    const clock = recordingClock();
    const es = (source = new EventSource(s.url, { protocol: "sse", retryMs: 0, minRetryMs: 0, clock }));
    const log = watch(es);
    await waitFor(() => log.errors.length === 1, "the error");
    expect(log.errors).toEqual([{ code, state: EventSource.CLOSED }]);
    expect(es.readyState).toBe(EventSource.CLOSED);
    await sleep(100); // a reconnect (retryMs 0) would have been asked for and made by now
    expect(clock.delays).toEqual([]);
    expect(s.requests.length).toBe(requests);
    expect(log.events).toEqual([]);
    expect(log.opens).toBe(0);
  });

  it.each(["text/event-stream;charset=windows-1252", "text/event-stream;", "Text/Event-Stream ; x=y"])(
    "accepts Content-Type %s (WPT format-mime-*), and decodes UTF-8 whatever the charset",
    async (type) => {
      const s = await start([stream("data: ok…\n\n", { type, hold: true })]);
      const log = watch((source = new EventSource(s.url, { protocol: "sse" })));
      await waitFor(() => log.events.length === 1, "the event");
      expect(log.events[0]!.data).toBe("ok…");
    },
  );

  it("recognises a text/event-stream essence exactly", () => {
    expect([null, "", "text/plain", "text/event-streams", "text/event-stream/x"].map(isEventStream)).toEqual([false, false, false, false, false]);
    expect(["text/event-stream", " text/event-stream ;charset=utf-8"].map(isEventStream)).toEqual([true, true]);
  });

  it("close() in the error listener stops reconnecting; close() is idempotent", async () => {
    const s = await start([stream("data: a\n\n")]);
    const clock = recordingClock();
    const es = (source = new EventSource(s.url, { protocol: "sse", retryMs: 0, minRetryMs: 0, clock }));
    let errors = 0;
    es.addEventListener("error", () => {
      errors++;
      es.close();
      es.close();
    });
    await waitFor(() => errors === 1, "the error");
    await sleep(100);
    expect(es.readyState).toBe(EventSource.CLOSED);
    expect(s.requests.length).toBe(1);
    expect(clock.delays).toEqual([]);
  });

  it("a header function runs before every request; a token becomes Authorization: Bearer", async () => {
    const s = await start([stream("data: a\n\n"), stream(": held\n", { hold: true })]);
    let n = 0;
    source = new EventSource(s.url, { protocol: "sse", headers: () => ({ "x-n": String(++n) }), token: async () => `t${n}`, retryMs: 0, minRetryMs: 0 });
    await waitFor(() => s.requests.length === 2, "the reconnect");
    expect(s.requests.map((r) => [r["x-n"], r.authorization])).toEqual([["1", "Bearer t1"], ["2", "Bearer t2"]]);
  });

  it("fails with TL_CONNECT_FAILED, without reconnecting, when the headers function throws on a reconnect", async () => {
    const s = await start([stream("data: a\n\n")]);
    let n = 0;
    const es = (source = new EventSource(s.url, { protocol: "sse", retryMs: 0, minRetryMs: 0, headers: () => {
      if (++n > 1) throw new Error("no session");
      return {};
    } }));
    const log = watch(es);
    await waitFor(() => log.errors.length === 2, "the lost stream, then the failure");
    expect(log.errors).toEqual([
      { code: "TL_CONNECTION_LOST", state: EventSource.CONNECTING },
      { code: "TL_CONNECT_FAILED", state: EventSource.CLOSED },
    ]);
    expect(s.requests.length).toBe(1);
  });

  it("starts from the lastEventId option", async () => {
    const s = await start([stream(": held\n", { hold: true })]);
    source = new EventSource(s.url, { protocol: "sse", lastEventId: "41" });
    await waitFor(() => s.requests.length === 1, "the request");
    expect(s.requests[0]!["last-event-id"]).toBe("41");
  });

  it("rejects an invalid URL and conflicting options with TL_INVALID_OPTION", () => {
    expect(() => new EventSource("http://[bad")).toThrow(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
    expect(() => new EventSource("http://x/", { minRetryMs: 10, maxRetryMs: 5 })).toThrow(/minRetryMs \(10\) cannot exceed maxRetryMs \(5\)/);
    expect(() => new EventSource("http://x/", { protocol: "ws" as never })).toThrow(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
  });
});
