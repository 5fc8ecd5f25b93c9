/**
 * Limits across nodes on the Redis backplane (issue #12.5): per-user and per-address connection
 * caps, tickets per user and the long-poll rate hold for the cluster, not per process; a killed
 * node's slots free when their lease runs out; with Redis away, caps fall back to each node's own
 * limits (fail-open) and tickets are refused (fail-closed). Three nodes in this process (each its
 * own server and backplane, nothing shared but Redis), and one real node process to SIGKILL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { request, type ClientRequest } from "node:http";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type ServerOptions, type ThroughlineServer } from "@throughline/server";
import { sleep, within } from "@throughline/testkit";
import { startRedisServer, type RedisServer } from "@throughline/testkit/redis";
import { WebSocket } from "ws";
import { backplanes, sharedRedis } from "./helpers.js";
import type { RedisBackplaneOptions } from "../src/options.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const { nodes, url: redisUrl } = sharedRedis();

let servers: ThroughlineServer[] = [];
let streams: ClientRequest[] = [];
let children: ChildProcess[] = [];
let extraRedis: RedisServer | undefined;

afterEach(async () => {
  for (const s of streams) s.destroy();
  streams = [];
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, "exit") : undefined)));
  children = [];
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  await extraRedis?.close();
  extraRedis = undefined;
});

/** `Authorization: Bearer <name>` is user <name>. */
const authenticate = (req: { headers: Record<string, string | string[] | undefined> }) => /^Bearer (\w+)$/.exec(String(req.headers.authorization ?? ""))?.[1] ?? null;
const as = (user: string) => ({ authorization: `Bearer ${user}` });

async function cluster(options: ServerOptions, make: (o?: RedisBackplaneOptions) => ServerOptions["backplane"] = (o) => nodes.make(o), count = 3): Promise<string[]> {
  const urls: string[] = [];
  for (let i = 0; i < count; i++) {
    const rt = createServer({ path: "/rt", backplane: make(), heartbeatMs: 1_000, longPollHoldMs: 200, ...options });
    servers.push(rt);
    urls.push((await rt.listen(0, "127.0.0.1")).url);
  }
  return urls;
}

interface Outcome {
  readonly status: number;
  /** The error code of a refusal. */
  readonly code: string | undefined;
  readonly retryAfter: string | undefined;
}

/** Opens an SSE stream (kept open until the test ends, or `close()`), or reads the refusal. */
function sse(url: string, headers: Record<string, string> = {}): Promise<Outcome & { close(): void }> {
  return within(
    new Promise((resolve, reject) => {
      const req = request(`${url}/sse?topics=a`, { headers: { accept: "text/event-stream", ...headers }, agent: false }, (res) => {
        const status = res.statusCode ?? 0;
        const close = () => req.destroy();
        const retryAfter = res.headers["retry-after"] as string | undefined;
        if (status === 200) {
          res.on("error", () => {});
          res.once("data", () => resolve({ status, code: undefined, retryAfter, close }));
          return;
        }
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status, code: (JSON.parse(body) as { error?: { code?: string } }).error?.code, retryAfter, close }));
      });
      streams.push(req);
      req.on("error", reject);
      req.end();
    }),
    `SSE ${url}`,
  );
}

async function post(url: string, headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: "POST", headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function getPoll(url: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> | Array<Record<string, unknown>> }> {
  const res = await fetch(`${url}/poll?${new URLSearchParams(params)}`, { headers });
  return { status: res.status, body: (await res.json()) as Array<Record<string, unknown>> };
}

/** Opens a WebSocket and resolves with its first frame's type, or the refusal's HTTP status. */
function wsOutcome(url: string): Promise<string | number> {
  const ws = new WebSocket(url.replace(/^http/, "ws"));
  return new Promise<string | number>((resolve) => {
    ws.once("message", (d) => resolve((JSON.parse(String(d)) as { type: string }).type));
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.once("error", () => resolve(-1));
  });
}

/** Retries an SSE open until it is admitted (releases reach Redis right after the close). */
async function admittedEventually(url: string, headers: Record<string, string>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const o = await sse(url, headers);
    if (o.status === 200) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last status ${o.status})`);
    await sleep(50);
  }
}

describe("connection caps across nodes", () => {
  it("maxConnectionsPerUser: streams on A and B, the third on C is refused with 429 TL_RATE_LIMITED; another user is not; a closed stream frees its place", async () => {
    const [a, b, c] = await cluster({ authenticate, maxConnectionsPerUser: 2 });
    const first = await sse(a!, as("alice"));
    expect((await sse(b!, as("alice"))).status).toBe(200);
    expect(first.status).toBe(200);
    const third = await sse(c!, as("alice"));
    expect(third).toMatchObject({ status: 429, code: "TL_RATE_LIMITED", retryAfter: "5" });
    expect((await sse(c!, as("bob"))).status).toBe(200);
    first.close();
    await admittedEventually(c!, as("alice"), "alice's place on C after her stream on A closed");
  });

  it("maxConnectionsPerAddress: SSE on A and B, an SSE or a WebSocket on C is refused", async () => {
    const [a, b, c] = await cluster({ maxConnectionsPerAddress: 2 });
    expect((await sse(a!)).status).toBe(200);
    const second = await sse(b!);
    expect(second.status).toBe(200);
    expect(await sse(c!)).toMatchObject({ status: 429, code: "TL_RATE_LIMITED" });
    expect(await wsOutcome(`${c}/ws?topics=a`)).toBe(429);
    second.close();
    await admittedEventually(c!, {}, "the address's place after a stream closed");
  });

  it("a long-poll session polled on three nodes counts once: with maxConnectionsPerUser 1 it keeps polling everywhere, a second client of the user is refused", async () => {
    const [a, b, c] = await cluster({ authenticate, maxConnectionsPerUser: 1 });
    const first = await getPoll(a!, { topics: "a" }, as("alice"));
    expect(first.status).toBe(200);
    const session = (first.body as Array<{ session?: string }>)[0]!.session!;
    for (const url of [b!, c!, a!]) {
      // The session record reaches Redis right after the first answer: the first polls may see 404.
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        status = (await getPoll(url, { topics: "a", session }, as("alice"))).status;
        if (status === 404) await sleep(20);
        else if (status !== 200) break;
      }
      expect(status).toBe(200);
    }
    expect(servers.every((s) => s.connectionCount === 1)).toBe(true);
    expect(await sse(b!, as("alice"))).toMatchObject({ status: 429, code: "TL_RATE_LIMITED" });
  });
});

describe("tickets and the long-poll rate across nodes", () => {
  it("tickets per user: two outstanding on A and B, the third on C is refused; a redeemed one no longer counts", async () => {
    const [a, b, c] = await cluster({ authenticate, maxConnectionsPerUser: 2 });
    const t1 = await post(`${a}/ticket`, as("alice"));
    expect(t1.status).toBe(200);
    expect((await post(`${b}/ticket`, as("alice"))).status).toBe(200);
    expect(await post(`${c}/ticket`, as("alice"))).toMatchObject({ status: 429, body: { error: { code: "TL_RATE_LIMITED" } } });
    expect((await post(`${c}/ticket`, as("bob"))).status).toBe(200);
    expect(await wsOutcome(`${c}/ws?topics=a&ticket=${String(t1.body.ticket)}`)).toBe("hello");
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await post(`${a}/ticket`, as("alice"))).status;
      if (status !== 200) await sleep(20);
    }
    expect(status).toBe(200);
  });

  it("maxPollsPerSecond holds for a session whose polls land on every node", async () => {
    const [a, b, c] = await cluster({ maxPollsPerSecond: 2 });
    const first = await getPoll(a!, { topics: "a" });
    const session = (first.body as Array<{ session?: string }>)[0]!.session!;
    // Wait until every node knows the session (the shared record lands right after the answer).
    for (const url of [b!, c!]) {
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        status = (await getPoll(url, { topics: "a", session, connect: "1" })).status;
        if (status !== 200) await sleep(20);
      }
      expect(status).toBe(200);
    }
    await sleep(1_100); // a fresh window
    // Six polls at once, two per node: each node alone sees 2 per second (its own limit), the cluster 6.
    const answers = await Promise.all([a, b, c, a, b, c].map((url) => getPoll(url!, { topics: "a", session })));
    const refused = answers.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) expect(r.body).toMatchObject({ error: { code: "TL_RATE_LIMITED" } });
  });
});

describe("node crashes and Redis outages", () => {
  it("a SIGKILLed node's slots free when their lease runs out", async () => {
    const prefix = `k${Date.now().toString(36)}:`;
    const child = spawn(process.execPath, [join(HERE, "fixtures/limits-node.mjs"), redisUrl(), prefix, "300", "2"], { stdio: ["ignore", "pipe", "inherit"] });
    children.push(child);
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the node process did not start")), 20_000);
      createInterface({ input: child.stdout! }).on("line", (l) => {
        const m = /^ready (\d+)$/.exec(l);
        if (m) (clearTimeout(timer), resolve(Number(m[1])));
      });
      child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`the node process exited with ${code}`))));
    });
    const killed = `http://127.0.0.1:${port}/rt`;
    const [b, c] = await cluster({ authenticate, maxConnectionsPerUser: 2 }, () => nodes.make({ keyPrefix: prefix, leaseMs: 300 }), 2);
    expect((await sse(killed, as("alice"))).status).toBe(200);
    expect((await sse(killed, as("alice"))).status).toBe(200);
    expect(await sse(b!, as("alice"))).toMatchObject({ status: 429, code: "TL_RATE_LIMITED" });
    // Held for several leases while the node lives: it renews them.
    await sleep(1_000);
    expect(await sse(c!, as("alice"))).toMatchObject({ status: 429, code: "TL_RATE_LIMITED" });
    child.kill("SIGKILL");
    await once(child, "exit");
    await admittedEventually(b!, as("alice"), "the killed node's slots to expire");
    expect((await sse(c!, as("alice"))).status).toBe(200);
    expect(await sse(c!, as("alice"))).toMatchObject({ status: 429 });
  });

  it("Redis frozen (SIGSTOP): a connection waits at most the command deadline, then is admitted on the node's own limit", async () => {
    const redis = (extraRedis = await startRedisServer({ persistence: "none" }));
    const own = backplanes(() => redis.url);
    try {
      const [a] = await cluster({ authenticate, maxConnectionsPerUser: 1 }, () => own.make({ commandTimeoutMs: 300 }), 1);
      redis.pause();
      // Answered although Redis never answers: the wait is bounded by the command deadline.
      expect((await sse(a!, as("alice"))).status).toBe(200);
      expect(await sse(a!, as("alice"))).toMatchObject({ status: 429, code: "TL_RATE_LIMITED" });
      redis.resume();
    } finally {
      redis.resume();
      for (const s of servers.splice(0)) await s.close();
      await own.closeAll();
    }
  });

  it("Redis away: caps fall back to each node's own limit (fail-open), tickets are refused with 503 (fail-closed); slots taken meanwhile count once Redis is back", async () => {
    const redis = (extraRedis = await startRedisServer({ persistence: "rdb" }));
    const own = backplanes(() => redis.url);
    try {
      const [a, b, c] = await cluster({ authenticate, maxConnectionsPerUser: 2 }, () => own.make({ leaseMs: 300, maxReconnectDelayMs: 100 }));
      await redis.stop("SIGTERM");
      expect((await sse(a!, as("alice"))).status).toBe(200);
      expect((await sse(a!, as("alice"))).status).toBe(200);
      // Per node: A is at the user's limit on its own…
      expect(await sse(a!, as("alice"))).toMatchObject({ status: 429, code: "TL_RATE_LIMITED" });
      // …but B cannot see A's count while Redis is away: the documented fail-open.
      expect((await sse(b!, as("alice"))).status).toBe(200);
      expect(await post(`${a}/ticket`, as("alice"))).toMatchObject({ status: 503, body: { error: { code: "TL_BACKPLANE_UNAVAILABLE" } } });
      // Redis returns (with its data, so the history's epoch stays): the nodes' renewals write the
      // three slots taken meanwhile, and the user's cap holds across nodes again.
      await redis.restart();
      let alice = 200;
      for (let i = 0; i < 200 && alice === 200; i++) {
        const o = await sse(c!, as("alice"));
        alice = o.status;
        if (alice === 200) {
          o.close();
          await sleep(25);
        }
      }
      expect(alice).toBe(429);
      expect((await post(`${a}/ticket`, as("carol"))).status).toBe(200);
    } finally {
      for (const s of servers.splice(0)) await s.close();
      await own.closeAll();
    }
  });
});
