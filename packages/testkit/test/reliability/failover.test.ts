/**
 * Graceful shutdown and failover: a client cut from instance A by its 1001 reconnects, through
 * a forwarder now pointing at instance B (published to meanwhile), and resumes without loss when A and B share their
 * history store, or gets one gap event (and goes on live) when they do not.
 */
import { afterEach, describe, expect, it } from "vitest";
import { connect, type Channel } from "@throughline/client/node";
import { MemoryHistoryStore, createServer, type ServerOptions, type ThroughlineServer } from "@throughline/server";
import type { TransportName } from "@throughline/wire";
import { waitFor } from "../../src/wait.js";
import { checkNothingLost, gapCount, startForwarder, type Forwarder, type Seen } from "./helpers.js";

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

const OPTIONS: ServerOptions = { heartbeatMs: 1_000, longPollHoldMs: 500, retryMs: 20 };

async function instance(options: ServerOptions): Promise<{ rt: ThroughlineServer; port: number }> {
  const rt = createServer({ ...OPTIONS, ...options });
  const { port } = await rt.listen(0, "127.0.0.1");
  closers.push(() => rt.close());
  return { rt, port };
}

function watch(ch: Channel): Seen[] {
  const seen: Seen[] = [];
  ch.on("*", (m) => seen.push({ kind: "msg", topic: m.topic, n: (m.data as { n: number }).n, id: m.id }));
  ch.on("gap", (g) => seen.push({ kind: "gap", topic: g.topic }));
  return seen;
}

async function failover(transport: TransportName, shared: boolean) {
  const store = new MemoryHistoryStore({ size: 1_000 });
  const a = await instance(shared ? { historyStore: store } : {});
  const b = await instance(shared ? { historyStore: store } : {});
  const fwd: Forwarder = await startForwarder(a.port);
  closers.push(() => fwd.close());
  const ch = connect(`${fwd.url}/realtime`, { transports: [transport], topics: ["t"], reconnect: { minDelayMs: 10, maxDelayMs: 200 } });
  closers.push(() => ch.close());
  const seen = watch(ch);
  let opens = 0;
  ch.on("open", () => opens++);
  await waitFor(() => opens === 1, "the first open", 10_000);
  const published = new Map<string, number>([["t", 0]]);
  const pub = (rt: ThroughlineServer) => {
    const n = published.get("t")!;
    rt.publish("t", { n });
    published.set("t", n + 1);
  };
  for (let i = 0; i < 5; i++) pub(a.rt);
  await waitFor(() => seen.length === 5, "the first five", 10_000);
  // Published through B while the client is still on A (no backplane: only the store sees
  // them), then A shuts down gracefully: its 1001 sends the client, through the forwarder, to B.
  for (let i = 0; i < 5; i++) pub(b.rt);
  fwd.setTarget(b.port);
  await a.rt.close();
  await waitFor(() => opens === 2, "the reconnect to B", 10_000);
  for (let i = 0; i < 5; i++) pub(b.rt);
  await waitFor(() => seen.some((e) => e.kind === "msg" && e.n === 14), "the last message", 10_000);
  return { seen, published, ch };
}

describe.each(["sse", "websocket", "long-poll"] as const)("failover over %s", (transport) => {
  it("resumes on another instance without loss or duplicates when the history store is shared", async () => {
    const { seen, published } = await failover(transport, true);
    expect(checkNothingLost(published, seen)).toEqual([]);
    expect(gapCount(seen)).toBe(0);
    expect(seen.map((e) => (e.kind === "msg" ? e.n : "gap"))).toEqual([...Array(15).keys()]);
  });

  it("reports one gap event and continues live when the instances do not share history", async () => {
    const { seen, published } = await failover(transport, false);
    expect(checkNothingLost(published, seen)).toEqual([]);
    expect(gapCount(seen)).toBe(1);
    expect(seen.filter((e) => e.kind === "msg").map((e) => (e as { n: number }).n)).toEqual([0, 1, 2, 3, 4, 10, 11, 12, 13, 14]);
  });
});
