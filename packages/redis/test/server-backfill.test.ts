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
import { startRedisServer } from "@throughline/testkit/redis";
import type { GapFrame, TransportName } from "@throughline/wire";
import { WebSocket } from "ws";
import type { RedisBackplaneOptions } from "../src/options.js";
import { backplanes, sharedRedis, opened } from "./helpers.js";

const { nodes } = sharedRedis();
const FAST = { reconnect: { minDelayMs: 20, maxDelayMs: 300 } };

const { servers, channels, close: closeOpened } = opened();

afterEach(async () => {
  await closeOpened();
});

/** Nodes A and B (each its own server and backplane), local history of 5 per topic. */
async function twoNodes(backplane: RedisBackplaneOptions = {}, on = nodes): Promise<string[]> {
  const urls: string[] = [];
  for (let i = 0; i < 2; i++) {
    const rt = createServer({ path: "/rt", backplane: on.make(backplane), heartbeatMs: 1_000, longPollHoldMs: 1_000, history: { size: 5 } });
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

/** Frames of a raw WebSocket to `url` (closed by the caller). */
function rawWs(url: string): { ws: WebSocket; frames: Array<{ type: string; id?: string }> } {
  const ws = new WebSocket(url.replace(/^http/, "ws"));
  const frames: Array<{ type: string; id?: string }> = [];
  ws.on("message", (d) => frames.push(JSON.parse(String(d)) as { type: string; id?: string }));
  return { ws, frames };
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

describe("resume older than the shared history too", () => {
  it("a cursor Redis no longer covers gets exactly one evicted gap at the cursor, then all Redis retained", async () => {
    const historyLength = 10;
    const urls = await twoNodes({ historyLength });
    const ids = await publish(300);
    const epoch = ids[0]!.split("-")[0]!;
    // Where Redis's retained history begins (MAXLEN ~ trims whole stream nodes): the true point.
    const read = await nodes.make({ historyLength }).since(["*"], { epoch, seq: 0 }, 1);
    const from = read.gap!.continueAfter.seq;
    expect(read.gap!.reason).toBe("evicted");
    expect(from).toBeGreaterThan(3);
    expect(from).toBeLessThan(290); // more than node B's replica (5) holds: the rest comes from Redis
    const ch = connect(urls[1]!, { ...FAST, topics: ["t"], transports: ["websocket"], cursor: ids[2]! });
    channels.push(ch);
    const { got, gaps } = watch(ch);
    await waitFor(() => got.length >= 300 - from, "the retained history", 20_000);
    ids.push(await servers[0]!.publishAsync("t", { i: 300 }));
    await waitFor(() => got.length >= 301 - from, "the live message", 20_000);
    expect(gaps).toEqual([{ type: "gap", topic: "t", reason: "evicted", cursor: ids[2]! }]);
    expect(got.map((m) => m.id)).toEqual(ids.slice(from));
  });
});

describe("resume cursors taken from elsewhere", () => {
  it("long-poll: a session adopted from node A resumes on node B from its shared cursor, no gap", async () => {
    const urls = await twoNodes();
    const before = await publish(20);
    const first = (await (await fetch(`${urls[0]}/poll?topics=t`)).json()) as Array<{ type: string; session: string; cursor: string }>;
    const session = first[0]!.session;
    // The session starts at node A's head as A knew it: under load A's own ingest may not have
    // seen its last appends yet, and those then belong to the session (hello's cursor says where).
    const start = before.indexOf(first[0]!.cursor) + 1;
    expect(start > 0 || first[0]!.cursor.endsWith("-0")).toBe(true);
    const after = await publish(30);
    let frames: Array<{ type: string; id?: string }> = [];
    for (let i = 0; i < 100; i++) {
      const answer = await fetch(`${urls[1]}/poll?topics=t&connect=1&session=${session}`);
      if (answer.status === 200) {
        frames = (await answer.json()) as typeof frames;
        break;
      }
      await answer.body?.cancel();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(before).toHaveLength(20);
    expect(frames[0]?.type).toBe("hello");
    expect(frames.filter((f) => f.type === "gap")).toEqual([]);
    expect(frames.filter((f) => f.type === "message").map((f) => f.id)).toEqual([...before.slice(start), ...after]);
  });

  it("any cursor position and topic set: the replay from Redis joins the replica with no duplicate and no hole", async () => {
    const urls = await twoNodes();
    const ids: Array<{ id: string; topic: string }> = [];
    for (let i = 0; i < 60; i++) {
      const topic = i % 3 === 0 ? "u" : "t";
      ids.push({ id: await servers[0]!.publishAsync(topic, { i }), topic });
    }
    const epoch = ids[0]!.id.split("-")[0]!;
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const sets = [["t"], ["u"], ["t", "u"], ["*"]];
    for (let round = 0; round < 12; round++) {
      const k = round === 0 ? 0 : random(ids.length + 1);
      const topics = sets[random(sets.length)]!;
      const want = (m: { topic: string }): boolean => topics[0] === "*" || topics.includes(m.topic);
      const { ws, frames } = rawWs(`${urls[1]!}/ws?topics=${topics.join(",")}&cursor=${epoch}-${k}`);
      try {
        await waitFor(() => frames.length > 0, "the hello", 10_000);
        // A live sentinel on a wanted topic: once it arrived, the replay before it is complete.
        const topic = topics[0] === "*" ? "t" : topics[0]!;
        ids.push({ id: await servers[0]!.publishAsync(topic, { sentinel: round }), topic });
        const sentinel = ids[ids.length - 1]!.id;
        await waitFor(() => frames.some((f) => f.id === sentinel), "the sentinel", 10_000);
        expect({ k, topics, gaps: frames.filter((f) => f.type === "gap") }).toEqual({ k, topics, gaps: [] });
        expect(frames.filter((f) => f.type === "message").map((f) => f.id)).toEqual(ids.slice(k).filter(want).map((m) => m.id));
      } finally {
        ws.terminate();
      }
    }
  });
});

describe("shared history unreachable", () => {
  it("a resume older than the replica gets the local gap at its cursor (a gap, never a silent loss)", async () => {
    const redis = await startRedisServer({ persistence: "none" });
    const own = backplanes(() => redis.url);
    try {
      const urls = await twoNodes({ commandTimeoutMs: 300 }, own);
      const ids = await publish(50);
      // Node B has ingested all 50 (its replica keeps the last 5).
      const probe = rawWs(`${urls[1]!}/ws?topics=t&cursor=${ids[48]!}`);
      await waitFor(() => probe.frames.some((f) => f.id === ids[49]), "node B's ingest", 10_000);
      probe.ws.terminate();
      redis.pause();
      const { ws, frames } = rawWs(`${urls[1]!}/ws?topics=t&cursor=${ids[19]!}`);
      try {
        await waitFor(() => frames.filter((f) => f.type === "message").length >= 5, "the replica's replay", 10_000);
        expect(frames.filter((f) => f.type === "gap")).toEqual([{ type: "gap", topic: "t", reason: "evicted", cursor: ids[19]! }]);
        expect(frames.filter((f) => f.type === "message").map((f) => f.id)).toEqual(ids.slice(45));
      } finally {
        ws.terminate();
      }
    } finally {
      redis.resume();
      await Promise.all(servers.splice(0).map((s) => s.close()));
      await own.closeAll();
      await redis.close();
    }
  });
});
