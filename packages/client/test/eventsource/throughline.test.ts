/**
 * The EventSource facade against a real Throughline server on loopback: auto-detection by the
 * marker header, messages as MessageEvents (data, event name, lastEventId = message id), gaps as
 * `error` events with TL_GAP, close() releasing the server connection.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createServer, type ThroughlineServer } from "@throughline/server";
import { formatId, newEpoch } from "@throughline/wire";
import { EventSource, EventSourceErrorEvent, type EventSourceInit } from "@throughline/client/eventsource";
import type { WebSocketConstructor } from "@throughline/client";
import { waitFor } from "../helpers/wait.js";

let rt: ThroughlineServer;
let url: string;
let source: EventSource | undefined;
const ws = WebSocket as unknown as WebSocketConstructor;

beforeAll(async () => {
  rt = createServer({ heartbeatMs: 1_000, retryMs: 50 });
  url = (await rt.listen(0, "127.0.0.1")).url;
});
afterEach(() => source?.close());
afterAll(() => rt.close());

function record(es: EventSource, types: string[]) {
  const events: { type: string; data: string; lastEventId: string; origin: string }[] = [];
  const errors: EventSourceErrorEvent[] = [];
  for (const t of types) es.addEventListener(t, (e) => events.push((({ type, data, lastEventId, origin }) => ({ type, data, lastEventId, origin }))(e as MessageEvent<string>)));
  es.onerror = (e) => errors.push(e);
  return { events, errors };
}

describe("EventSource facade on a Throughline server", () => {
  it.each([
    ["the base path (auto-detected by the marker header)", (base: string): [string, EventSourceInit] => [base, { WebSocket: ws, topics: ["prices"] }]],
    ["the /sse route with a topics query (auto)", (base: string): [string, EventSourceInit] => [`${base}/sse?topics=prices`, { WebSocket: ws }]],
    ["the base path with protocol: throughline", (base: string): [string, EventSourceInit] => [base, { protocol: "throughline", WebSocket: ws, topics: ["prices"] }]],
  ])("runs on the negotiator from %s and dispatches published messages", async (_name, args) => {
    const [target, init] = args(url);
    const es = (source = new EventSource(target, init));
    const log = record(es, ["message", "price"]);
    await waitFor(() => es.readyState === EventSource.OPEN, "open");
    const ids = [rt.publish("prices", "plain text"), rt.publish("prices", { p: 1.5 }, { event: "price" }), rt.publish("other", "not mine"), rt.publish("prices", null)];
    await waitFor(() => log.events.length === 3, "three events");
    const origin = new URL(url).origin;
    expect(log.events).toEqual([
      { type: "message", data: "plain text", lastEventId: ids[0], origin },
      { type: "price", data: '{"p":1.5}', lastEventId: ids[1], origin },
      { type: "message", data: "null", lastEventId: ids[3], origin },
    ]);
    expect(log.errors).toEqual([]);
  });

  it("reports a resume the history cannot cover as an error event with TL_GAP, and stays open", async () => {
    const stale = formatId(newEpoch(), 5);
    const es = (source = new EventSource(url, { protocol: "throughline", WebSocket: ws, lastEventId: stale, topics: ["g"] }));
    const log = record(es, ["message"]);
    await waitFor(() => log.errors.length === 1, "the gap");
    expect(log.errors[0]!.code).toBe("TL_GAP");
    expect(log.errors[0]!.gap?.reason).toBe("epoch");
    const id = rt.publish("g", "after the gap");
    await waitFor(() => log.events.length === 1, "the next message");
    expect(log.events[0]!.lastEventId).toBe(id);
    expect(es.readyState).toBe(EventSource.OPEN);
  });

  it("close() stops for good and lets the server connection go", async () => {
    await waitFor(() => rt.connectionCount === 0, "earlier tests' connections to go");
    const es = (source = new EventSource(url, { protocol: "throughline", WebSocket: ws, topics: ["c"] }));
    await waitFor(() => es.readyState === EventSource.OPEN && rt.connectionCount === 1, "open");
    es.close();
    expect(es.readyState).toBe(EventSource.CLOSED);
    await waitFor(() => rt.connectionCount === 0, "the server to see the close");
  });
});
