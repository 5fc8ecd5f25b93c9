/**
 * A resume older than a node's local replica (issue #12, "gaps only where the history truly
 * ended"): two nodes on one Redis whose replicas keep 5 messages per topic; a client resuming
 * further back is served from the shared history, and gets a gap only where Redis itself no
 * longer covers its cursor, at that point.
 */
import { afterEach, describe, expect, it } from "vitest";
import { connect, type Channel, type Message } from "@throughline/client/node";
import { createServer, type ThroughlineServer } from "@throughline/server";
import { waitFor } from "@throughline/testkit";
import type { GapFrame, TransportName } from "@throughline/wire";
import { WebSocket } from "ws";
import type { RedisBackplaneOptions } from "../src/options.js";
import { sharedRedis } from "./helpers.js";

const { nodes } = sharedRedis();
const FAST = { reconnect: { minDelayMs: 20, maxDelayMs: 300 } };

let servers: ThroughlineServer[] = [];
let channels: Channel[] = [];

afterEach(async () => {
  for (const ch of channels) ch.close();
  channels = [];
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** Nodes A and B (each its own server and backplane), local history of 5 per topic. */
async function twoNodes(backplane: RedisBackplaneOptions = {}): Promise<string[]> {
  const urls: string[] = [];
  for (let i = 0; i < 2; i++) {
    const rt = createServer({ path: "/rt", backplane: nodes.make(backplane), heartbeatMs: 1_000, longPollHoldMs: 1_000, history: { size: 5 } });
    servers.push(rt);
    urls.push((await rt.listen(0, "127.0.0.1")).url);
  }
  return urls;
}

/**
 * Publishes `count` messages on `topic` through node A. Node B may not have ingested them all when
 * a client resumes there: what its replica lacks still reaches the client, live.
 */
async function publish(count: number, topic = "t"): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await servers[0]!.publishAsync(topic, { i }));
  return ids;
}

function watch(ch: Channel): { got: Message[]; gaps: GapFrame[] } {
  const got: Message[] = [];
  const gaps: GapFrame[] = [];
  ch.on("*", (m) => got.push(m));
  ch.on("gap", (g) => gaps.push(g));
  return { got, gaps };
}

describe("resume older than the node's replica", () => {
  it.each(["sse", "websocket", "long-poll"] as const)("%s: a cursor 30 back on node B replays exactly those 30 from Redis, then live, no gap", async (transport: TransportName) => {
    const urls = await twoNodes();
    const ids = await publish(50);
    const ch = connect(urls[1]!, { ...FAST, topics: ["t"], transports: [transport], cursor: ids[19]! });
    channels.push(ch);
    const { got, gaps } = watch(ch);
    await waitFor(() => got.length >= 30, "the replay of 30", 20_000);
    ids.push(await servers[0]!.publishAsync("t", { i: 50 }));
    await waitFor(() => got.length >= 31, "the live message", 20_000);
    expect(got.map((m) => m.id)).toEqual(ids.slice(20));
    expect(gaps).toEqual([]);
  });
});
