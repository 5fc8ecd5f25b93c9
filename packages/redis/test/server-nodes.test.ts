/**
 * The server on the Redis backplane (issue #12), three nodes in this process (each its own
 * server and backplane, so nothing is shared but Redis) behind a real nginx with plain
 * round-robin: every request of a client may land on another node.
 */
import { afterEach, describe, expect, it } from "vitest";
import { connect, type Channel, type Message } from "@throughline/client/node";
import { createServer, type ServerOptions, type ThroughlineServer } from "@throughline/server";
import { startNginx, waitFor, type NginxProxy } from "@throughline/testkit";
import type { TransportName } from "@throughline/wire";
import { WebSocket } from "ws";
import { sharedRedis } from "./helpers.js";

const { nodes } = sharedRedis();
const FAST = { reconnect: { minDelayMs: 20, maxDelayMs: 300 } };

let servers: ThroughlineServer[] = [];
let proxy: NginxProxy | undefined;
let channels: Channel[] = [];

afterEach(async () => {
  for (const ch of channels) ch.close();
  channels = [];
  await proxy?.close();
  proxy = undefined;
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function cluster(count = 3, extra: ServerOptions = {}): Promise<{ urls: string[]; proxied: string }> {
  const urls: string[] = [];
  for (let i = 0; i < count; i++) {
    const rt = createServer({ path: "/rt", backplane: nodes.make(), heartbeatMs: 1_000, longPollHoldMs: 1_000, ...extra });
    servers.push(rt);
    urls.push((await rt.listen(0, "127.0.0.1")).url);
  }
  const origins = urls.map((u) => new URL(u).origin);
  proxy = await startNginx({ target: origins[0]!, moreTargets: origins.slice(1), config: "tuned" });
  return { urls, proxied: `${proxy.url}/rt` };
}

/** Opens a WebSocket and resolves with its first frame's type, or the refusal's HTTP status. */
function wsOutcome(url: string): Promise<string | number> {
  const ws = new WebSocket(url.replace(/^http/, "ws"));
  return new Promise<string | number>((resolve) => {
    ws.once("message", (d) => resolve((JSON.parse(String(d)) as { type: string }).type));
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.once("error", () => resolve(-1));
  }).finally(() => ws.terminate());
}

function collect(ch: Channel): Message[] {
  const got: Message[] = [];
  ch.on("*", (m) => got.push(m));
  return got;
}

describe("three server nodes on one Redis", () => {
  it("publish() is refused with a backplane and publishAsync() resolves with the stored id", async () => {
    await cluster(1);
    const rt = servers[0]!;
    expect(() => rt.publish("a", 1)).toThrow(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
    const id = await rt.publishAsync("a", { n: 1 });
    expect(id).toMatch(/^[a-z0-9]+-1$/);
    expect(rt.epoch).toBe(id.split("-")[0]);
    await expect(rt.publishAsync("bad topic!", 1)).rejects.toMatchObject({ code: "TL_BAD_TOPIC" });
  });

  it("rejects a backplane together with historyStore or epoch, naming both", () => {
    expect(() => createServer({ backplane: nodes.make(), epoch: "abc" })).toThrow(/backplane.*epoch/);
  });

  it.each(["sse", "websocket", "long-poll"] as const)("delivers what any node publishes to a %s client behind round-robin nginx, once and in order", async (transport: TransportName) => {
    const { proxied } = await cluster();
    const ch = connect(proxied, { ...FAST, topics: ["a", "b"], transports: [transport] });
    channels.push(ch);
    const got = collect(ch);
    await new Promise((resolve) => ch.on("open", resolve));
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push(await servers[i % 3]!.publishAsync(i % 2 ? "a" : "b", { i }));
    await waitFor(() => got.length >= 30, "30 messages", 20_000);
    expect(got.map((m) => m.id)).toEqual(ids);
    expect(got.map((m) => (m.data as { i: number }).i)).toEqual([...Array(30).keys()]);
  });

  it("a client on default negotiation sends through any node and its session's user messages reach the app", async () => {
    const { proxied } = await cluster();
    const received: unknown[] = [];
    for (const s of servers) s.on("message", (data) => void received.push(data));
    const ch = connect(proxied, { ...FAST, topics: ["a"] });
    channels.push(ch);
    const got = collect(ch);
    await new Promise((resolve) => ch.on("open", resolve));
    for (let i = 0; i < 6; i++) await ch.send({ i });
    await waitFor(() => received.length >= 6, "six client messages at the servers");
    expect(received).toHaveLength(6);
    const ids = [await servers[0]!.publishAsync("a", "x"), await servers[1]!.publishAsync("a", "y")];
    await waitFor(() => got.length >= 2, "two messages");
    expect(got.map((m) => m.id)).toEqual(ids);
  });

  it("resumes on another node from a cursor: the replay, no gap", async () => {
    const { urls } = await cluster();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await servers[0]!.publishAsync("a", i));
    // Node 2 replays from its replica what node 0 published.
    const ch = connect(urls[2]!, { ...FAST, topics: ["a"], transports: ["sse"], cursor: ids[1]! });
    channels.push(ch);
    const got = collect(ch);
    const gaps: unknown[] = [];
    ch.on("gap", (g) => gaps.push(g));
    await waitFor(() => got.length >= 3, "the replay");
    expect(got.map((m) => m.id)).toEqual(ids.slice(2));
    expect(gaps).toEqual([]);
  });

  it("a node started later loads the retained history and serves resumes from it", async () => {
    await cluster(1);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await servers[0]!.publishAsync("a", i));
    const late = createServer({ path: "/rt", backplane: nodes.make() });
    servers.push(late);
    const { url } = await late.listen(0, "127.0.0.1");
    expect(late.epoch).toBe(servers[0]!.epoch);
    const ch = connect(url, { ...FAST, topics: ["a"], transports: ["long-poll"], cursor: ids[0]! });
    channels.push(ch);
    const got = collect(ch);
    await waitFor(() => got.length >= 3, "the replay from the late node");
    expect(got.map((m) => m.id)).toEqual(ids.slice(1));
  });

  it("a WebSocket ticket issued on one node is redeemed once on any node, then refused on every node", async () => {
    const authenticate = (req: { headers: Record<string, string | string[] | undefined> }) => (req.headers.authorization === "Bearer alice-token" ? { id: "alice" } : null);
    const { urls } = await cluster(3, { authenticate });
    const answer = await fetch(`${urls[0]}/ticket`, { method: "POST", headers: { authorization: "Bearer alice-token" } });
    expect(answer.status).toBe(200);
    const { ticket } = (await answer.json()) as { ticket: string };
    expect(await wsOutcome(`${urls[1]}/ws?topics=a&ticket=${ticket}`)).toBe("hello");
    for (const url of urls) expect(await wsOutcome(`${url}/ws?topics=a&ticket=${ticket}`)).toBe(401);
    // One issued and redeemed on the same node is spent everywhere too.
    const again = (await (await fetch(`${urls[2]}/ticket`, { method: "POST", headers: { authorization: "Bearer alice-token" } })).json()) as { ticket: string };
    expect(await wsOutcome(`${urls[2]}/ws?topics=a&ticket=${again.ticket}`)).toBe("hello");
    expect(await wsOutcome(`${urls[0]}/ws?topics=a&ticket=${again.ticket}`)).toBe(401);
  });

  it("a session is bound to its user on every node: another user naming it gets 404", async () => {
    const users: Record<string, string> = { "Bearer a": "alice", "Bearer b": "bob" };
    const authenticate = (req: { headers: Record<string, string | string[] | undefined> }) => {
      const u = users[String(req.headers.authorization)];
      return u ? { id: u } : null;
    };
    const { urls } = await cluster(2, { authenticate });
    const first = await fetch(`${urls[0]}/poll?topics=a`, { headers: { authorization: "Bearer a" } });
    const [hello] = (await first.json()) as Array<{ type: string; session: string }>;
    expect(hello!.type).toBe("hello");
    // The record reaches Redis right after the answer; give it a moment, then ask the other node.
    let bob = 0;
    let alice = 0;
    for (let i = 0; i < 50; i++) {
      alice = (await fetch(`${urls[1]}/poll?topics=a&connect=1&session=${hello!.session}`, { headers: { authorization: "Bearer a" } })).status;
      if (alice === 200) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    bob = (await fetch(`${urls[1]}/poll?topics=a&connect=1&session=${hello!.session}`, { headers: { authorization: "Bearer b" } })).status;
    expect(alice).toBe(200);
    expect(bob).toBe(404);
  });
});
