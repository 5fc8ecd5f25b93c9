/**
 * The server on a Redis that lost its data (issue #12 point 4): the shared history's epoch
 * changes and each client gets one `gap` at the exact point, then everything of the new epoch.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, type Channel, type Message } from "@throughline/client/node";
import { createServer, type ThroughlineServer } from "@throughline/server";
import { waitFor, within } from "@throughline/testkit";
import { startRedisServer, type RedisServer } from "@throughline/testkit/redis";
import type { GapFrame, TransportName } from "@throughline/wire";
import { backplanes, opened } from "./helpers.js";

let redis: RedisServer;
const nodes = backplanes(() => redis.url);
const { servers, channels, close: closeOpened } = opened();

beforeAll(async () => {
  redis = await startRedisServer({ persistence: "none" });
});
afterEach(async () => {
  await closeOpened();
  await nodes.closeAll();
  nodes.fresh();
});
afterAll(async () => {
  await redis?.close();
});

describe("a Redis that lost its data", () => {
  it.each(["sse", "websocket", "long-poll"] as const)("gives a %s client one epoch gap at its cursor, then the new epoch's messages", async (transport: TransportName) => {
    const urls: string[] = [];
    for (let i = 0; i < 2; i++) {
      const rt = createServer({ path: "/rt", backplane: nodes.make({ blockMs: 200 }), heartbeatMs: 1_000, longPollHoldMs: 500 });
      servers.push(rt);
      urls.push((await rt.listen(0, "127.0.0.1")).url);
    }
    const ch = connect(urls[0]!, { topics: ["a"], transports: [transport], reconnect: { minDelayMs: 20, maxDelayMs: 200 } });
    channels.push(ch);
    const got: Message[] = [];
    const gaps: GapFrame[] = [];
    ch.on("*", (m) => got.push(m));
    ch.on("gap", (g) => gaps.push(g as GapFrame));
    await new Promise((resolve) => ch.on("open", resolve));
    const before = [await servers[1]!.publishAsync("a", 1), await servers[1]!.publishAsync("a", 2)];
    await waitFor(() => got.length === 2, "two messages of the first epoch");
    const oldEpoch = servers[0]!.epoch;
    await redis.flush();
    // Both nodes notice (an empty ingest read re-checks the epoch) and move to the new one.
    await waitFor(() => servers.every((s) => s.epoch !== oldEpoch), "both nodes on a new epoch", 15_000);
    const after = await servers[1]!.publishAsync("a", 3);
    await waitFor(() => got.length === 3 && gaps.length >= 1, "the gap and the new epoch's message", 15_000);
    expect(got.map((m) => m.id)).toEqual([...before, after]);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ topic: "*", reason: "epoch", cursor: `${servers[0]!.epoch}-0` });
    expect(after).toBe(`${servers[0]!.epoch}-1`);
  });

  it("Redis away: publishAsync rejects with TL_BACKPLANE_UNAVAILABLE, a node starting meanwhile answers 503, clients keep their stream; all recovers when Redis returns (here without its data: one epoch gap)", async () => {
    const rt = createServer({ path: "/rt", backplane: nodes.make({ maxReconnectDelayMs: 200 }), heartbeatMs: 1_000 });
    servers.push(rt);
    const { url } = await rt.listen(0, "127.0.0.1");
    const ch = connect(url, { topics: ["a"], transports: ["sse"], reconnect: { minDelayMs: 20, maxDelayMs: 200 } });
    channels.push(ch);
    const got: Message[] = [];
    const gaps: GapFrame[] = [];
    ch.on("*", (m) => got.push(m));
    ch.on("gap", (g) => gaps.push(g as GapFrame));
    await new Promise((resolve) => ch.on("open", resolve));
    const first = await rt.publishAsync("a", 1);
    await waitFor(() => got.length === 1, "the first message");
    await redis.stop("SIGTERM");
    await expect(rt.publishAsync("a", 2)).rejects.toMatchObject({ code: "TL_BACKPLANE_UNAVAILABLE" });
    // A node started while Redis is away refuses requests clearly instead of queueing them.
    const late = createServer({ path: "/rt", backplane: nodes.make({ maxReconnectDelayMs: 200 }) });
    servers.push(late);
    const lateServer = await import("node:http").then((http) => http.createServer());
    late.attach(lateServer);
    await new Promise<void>((resolve) => lateServer.listen(0, "127.0.0.1", resolve));
    const latePort = (lateServer.address() as { port: number }).port;
    let refused: Response | undefined;
    for (let i = 0; i < 100 && !refused; i++) {
      const r = await fetch(`http://127.0.0.1:${latePort}/rt/poll?topics=a`);
      if (r.status === 503) refused = r;
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(refused?.status).toBe(503);
    expect(((await refused!.json()) as { error: { code: string } }).error.code).toBe("TL_BACKPLANE_UNAVAILABLE");
    expect(ch.readyState).toBe(1);
    await redis.restart();
    await within(late.ready, "the late node becomes ready once Redis is back", 15_000);
    let second: string | undefined;
    for (let i = 0; i < 100 && second === undefined; i++) {
      second = await rt.publishAsync("a", 2).catch(() => undefined);
      if (second === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await waitFor(() => got.length === 2, "the message after Redis returned", 15_000);
    expect(got.map((m) => m.id)).toEqual([first, second]);
    expect(gaps.map((g) => g.reason)).toEqual(["epoch"]);
    const poll = await fetch(`http://127.0.0.1:${latePort}/rt/poll?topics=a&cursor=${first}`);
    expect(poll.status).toBe(200);
    await new Promise((resolve) => lateServer.close(resolve));
  });
});
