/**
 * Issue #12's chaos run: three real node processes on a real redis-server (AOF) behind a real
 * nginx with plain round-robin, clients on every transport and on default negotiation, a worker
 * publishing from a process that serves no clients, while nodes are SIGKILLed and restarted and
 * Redis restarts with its data. Every client must end with exactly the confirmed messages: none
 * lost, none twice, in order, and no gap (the history never ended).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Channel, type Message } from "@throughline/client/node";
import { createServer, type ThroughlineServer } from "@throughline/server";
import { freePort, sleep, startNginx, waitFor, type NginxProxy } from "@throughline/testkit";
import { startRedisServer, type RedisServer } from "@throughline/testkit/redis";
import type { GapFrame, TransportName } from "@throughline/wire";
import { build } from "../../../scripts/build.mjs";
import { redisBackplane, type RedisBackplane } from "../src/backplane.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const PREFIX = `chaos${Date.now().toString(36)}:`;
/** Messages published during the run (CHAOS_MESSAGES=24000 is a ~10-minute soak). */
const TOTAL = Number(process.env.CHAOS_MESSAGES ?? 300);

/** A node process; `start()` resolves once it listens, `kill()` is SIGKILL and awaits the exit. */
class NodeProcess {
  child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    private readonly redisUrl: string,
  ) {}

  async start(): Promise<void> {
    const child = (this.child = spawn(process.execPath, [join(HERE, "fixtures/server-node.mjs"), this.redisUrl, PREFIX, String(this.port)], { stdio: ["ignore", "pipe", "inherit"] }));
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node on ${this.port} did not start`)), 20_000);
      lines.on("line", (l) => l === "ready" && (clearTimeout(timer), resolve()));
      child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`node on ${this.port} exited with ${code}`))));
    });
  }

  async kill(signal: "SIGKILL" | "SIGTERM" = "SIGKILL"): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill(signal);
    await exited;
  }
}

describe("chaos: 3 node processes, Redis, round-robin nginx", () => {
  let redis: RedisServer;
  let proxy: NginxProxy;
  const procs: NodeProcess[] = [];
  let workerBackplane: RedisBackplane;
  let worker: ThroughlineServer;
  const channels: Channel[] = [];

  beforeAll(async () => {
    await build({ quiet: true });
    redis = await startRedisServer({ persistence: "aof" });
    for (let i = 0; i < 3; i++) procs.push(new NodeProcess(await freePort(), redis.url));
    await Promise.all(procs.map((p) => p.start()));
    const targets = procs.map((p) => `http://127.0.0.1:${p.port}`);
    proxy = await startNginx({ target: targets[0]!, moreTargets: targets.slice(1), config: "tuned" });
    workerBackplane = redisBackplane({ url: redis.url, keyPrefix: PREFIX });
    // A worker: publishes, serves no clients.
    worker = createServer({ backplane: workerBackplane });
    await worker.ready;
  }, 120_000);

  afterAll(async () => {
    for (const ch of channels) ch.close();
    await worker?.close();
    await workerBackplane?.close();
    await proxy?.close();
    await Promise.all(procs.map((p) => p.kill("SIGKILL")));
    await redis?.close();
  });

  it("0 lost, 0 duplicated, 0 out of order on every transport while nodes are killed and Redis restarts", async () => {
    const kinds: Array<TransportName | "default"> = ["sse", "websocket", "long-poll", "default"];
    const clients = kinds.map((kind) => {
      const ch = connect(`${proxy.url}/rt`, {
        topics: ["a", "b"],
        reconnect: { minDelayMs: 50, maxDelayMs: 500 },
        ...(kind === "default" ? {} : { transports: [kind] }),
      });
      channels.push(ch);
      const got: Message[] = [];
      const gaps: GapFrame[] = [];
      const opens = { count: 0 };
      ch.on("open", () => void opens.count++);
      ch.on("*", (m) => got.push(m));
      ch.on("gap", (g) => gaps.push(g as GapFrame));
      return { kind, ch, got, gaps, opens };
    });
    await waitFor(() => clients.every((c) => c.ch.readyState === 1), "every client open", 30_000);

    const confirmed: string[] = [];
    const failures: string[] = [];
    const chaos = async (n: number) => {
      // Every 100 messages one node (in turn) is SIGKILLed, restarted 20 messages later; Redis
      // restarts (with its data) at message 170 and every 1000 after.
      const node = procs[Math.floor(n / 100) % procs.length]!;
      if (n % 100 === 50) await node.kill();
      if (n % 100 === 70) await node.start();
      if (n % 1000 === 170) await redis.restart();
    };
    for (let n = 0; n < TOTAL; n++) {
      await chaos(n);
      // Retried until confirmed: a refusal while Redis restarts (TL_BACKPLANE_UNAVAILABLE) sends nothing.
      for (let attempt = 0; ; attempt++) {
        try {
          confirmed.push(await worker.publishAsync(n % 3 === 0 ? "a" : "b", { n }));
          break;
        } catch (err) {
          failures.push((err as { code?: string }).code ?? String(err));
          if (attempt > 200) throw err;
          await sleep(50);
        }
      }
      await sleep(15);
    }
    await waitFor(() => clients.every((c) => c.got.length >= TOTAL), "every client has every message", 90_000);
    await sleep(500); // anything extra (a duplicate) would arrive now
    for (const c of clients) {
      expect({ kind: c.kind, ids: c.got.map((m) => m.id) }).toEqual({ kind: c.kind, ids: confirmed });
      expect({ kind: c.kind, n: c.got.map((m) => (m.data as { n: number }).n) }).toEqual({ kind: c.kind, n: [...Array(TOTAL).keys()] });
      expect({ kind: c.kind, gaps: c.gaps }).toEqual({ kind: c.kind, gaps: [] });
    }
    // The kills did cut clients: some reconnected (and resumed on another node).
    expect(clients.reduce((sum, c) => sum + c.opens.count, 0)).toBeGreaterThan(clients.length);
    // Only "not stored, retried" refusals while Redis was away.
    expect(failures.every((f) => f === "TL_BACKPLANE_UNAVAILABLE")).toBe(true);
  }, 240_000 + TOTAL * 60);
});
