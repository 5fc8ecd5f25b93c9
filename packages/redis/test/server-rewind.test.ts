/**
 * The server on a Redis whose history went backwards (issue #12.4): restored from an older
 * snapshot (the same as a failover to a lagging replica), so a client's cursor is ahead of the
 * shared head. Ids after the head would be handed out again to new messages, which the client
 * would drop as duplicates: the history must start a new epoch, and the client gets exactly one
 * `epoch` gap at its cursor, then every message published after, on every transport.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, type Channel, type Message } from "@throughline/client/node";
import { createServer, type ThroughlineServer } from "@throughline/server";
import { waitFor } from "@throughline/testkit";
import { startRedisServer, type RedisServer } from "@throughline/testkit/redis";
import { parseId, type GapFrame, type TransportName } from "@throughline/wire";
import { backplanes, opened } from "./helpers.js";

let redis: RedisServer;
const nodes = backplanes(() => redis.url);
const { servers, channels, close: closeOpened } = opened();

beforeAll(async () => {
  redis = await startRedisServer({ persistence: "rdb" });
});
afterEach(async () => {
  await closeOpened();
  await nodes.closeAll();
  nodes.fresh();
});
afterAll(async () => {
  await redis?.close();
});

async function startNodes(count: number): Promise<string[]> {
  const urls: string[] = [];
  for (let i = 0; i < count; i++) {
    const rt = createServer({ path: "/rt", backplane: nodes.make({ blockMs: 200, maxReconnectDelayMs: 100 }), heartbeatMs: 1_000, longPollHoldMs: 500 });
    servers.push(rt);
    urls.push((await rt.listen(0, "127.0.0.1")).url);
    await rt.ready;
  }
  return urls;
}

function watch(url: string, transport: TransportName, cursor?: string): { ch: Channel; got: Message[]; gaps: GapFrame[]; opened: Promise<unknown> } {
  const ch = connect(url, { topics: ["a"], transports: [transport], reconnect: { minDelayMs: 20, maxDelayMs: 200 }, ...(cursor ? { cursor } : {}) });
  channels.push(ch);
  const got: Message[] = [];
  const gaps: GapFrame[] = [];
  ch.on("*", (m) => got.push(m));
  ch.on("gap", (g) => gaps.push(g as GapFrame));
  return { ch, got, gaps, opened: new Promise((resolve) => ch.on("open", resolve)) };
}

/** Publishes until a node accepts (Redis may still be coming back). */
async function publish(server: ThroughlineServer, data: unknown): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return await server.publishAsync("a", data);
    } catch (err) {
      if (i > 200) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe("a client whose cursor is ahead of the shared head", () => {
  it.each(["sse", "websocket", "long-poll"] as const)("after a cold restart on an older snapshot: a %s client resuming gets one epoch gap at its cursor, then everything published after", async (transport: TransportName) => {
    await startNodes(2);
    for (let i = 1; i <= 3; i++) await servers[1]!.publishAsync("a", i);
    const snapshot = await redis.snapshot();
    const lost = [await servers[1]!.publishAsync("a", 4), await servers[1]!.publishAsync("a", 5)];
    const cursor = lost[1]!;
    // Every node goes (no node remembers the head), then Redis comes back with the older data.
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await nodes.closeAll();
    await redis.restore(snapshot);
    const urls = await startNodes(3);
    const c = watch(urls[0]!, transport, cursor);
    await c.opened;
    await waitFor(() => c.gaps.length >= 1, "the gap");
    const after = [await publish(servers[1]!, 6), await publish(servers[2]!, 7)];
    await waitFor(() => c.got.length >= 2, "the messages published after the restore", 15_000);
    expect(c.gaps).toHaveLength(1);
    expect(c.gaps[0]).toMatchObject({ topic: "*", reason: "epoch" });
    const newEpoch = parseId(after[0]!)!.epoch;
    expect(newEpoch).not.toBe(parseId(cursor)!.epoch);
    expect(c.gaps[0]!.cursor).toBe(`${newEpoch}-0`);
    expect(c.got.map((m) => m.id)).toEqual(after);
    expect(c.got.map((m) => m.data)).toEqual([6, 7]);
  });

  it("with the nodes running through the restore: a connected client gets one epoch gap, then everything published after", async () => {
    const urls = await startNodes(3);
    const c = watch(urls[0]!, "sse");
    await c.opened;
    for (let i = 1; i <= 3; i++) await servers[1]!.publishAsync("a", i);
    const snapshot = await redis.snapshot();
    for (let i = 4; i <= 5; i++) await servers[2]!.publishAsync("a", i);
    await waitFor(() => c.got.length === 5, "the first five");
    const before = c.got.map((m) => m.id);
    await redis.restore(snapshot);
    const after = [await publish(servers[1]!, 6), await publish(servers[2]!, 7)];
    await waitFor(() => c.got.length >= 7 && c.gaps.length >= 1, "the gap and the messages published after", 15_000);
    expect(c.gaps).toHaveLength(1);
    expect(c.gaps[0]).toMatchObject({ topic: "*", reason: "epoch" });
    expect(parseId(after[0]!)!.epoch).not.toBe(parseId(before[0]!)!.epoch);
    expect(c.got.map((m) => m.id)).toEqual([...before, ...after]);
  });
});
