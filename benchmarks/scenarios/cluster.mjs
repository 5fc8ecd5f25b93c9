/**
 * Multi-node cost (issue #12, 6): for each system, one node next to `nodes` nodes sharing one
 * redis-server (Throughline on `@throughline/redis`, Socket.IO on `@socket.io/redis-adapter`),
 * with the same load: N subscribers spread evenly over the nodes, one publisher on the first node
 * at `rate` messages/s for the duration. Rows: publish→receive p50/p99 over every delivery, server
 * CPU per delivery (user + system of every node process; Redis's own CPU in its own column), and
 * losses. The ratio of the multi-node p99 to one node's is derived in report/summary.mjs.
 *
 * redis-server comes from @throughline/testkit/redis (free loopback port, no persistence, stopped
 * by PID); with pinning it runs on the server core with the nodes, so one node and three nodes get
 * the same CPU budget. Every run uses its own key prefix, so runs never read each other's history.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { findRedisServer, startRedisServer } from "@throughline/testkit/redis";
import { Fleet } from "../lib/fleet.mjs";
import { rateRounds, rateRun, roundsFields, roundsNote, sumOf } from "../lib/rate-run.mjs";
import { pinProcess } from "../lib/pin.mjs";
import { result, status, step } from "../lib/progress.mjs";

/** Systems with a multi-node server: the script takes a Redis URL (servers/*.mjs). */
export const CLUSTER_SYSTEM_IDS = Object.freeze(["throughline-sse", "throughline-ws", "socketio-ws"]);

/** Bound on waiting for the last deliveries after the publisher stopped. */
export const DRAIN_MS = 5_000;

/** CPU µs (user + system) a process has used, from /proc (Linux); NaN elsewhere. */
export function procCpuUs(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    // utime and stime (fields 14 and 15) in clock ticks; Linux reports them at 100 Hz to user space.
    return (Number(f[11]) + Number(f[12])) * 10_000;
  } catch {
    return NaN;
  }
}

/** Splits `n` subscribers over `k` nodes as evenly as possible (the first nodes take the rest). */
export function spread(n, k) {
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

/**
 * One setup: `fleets` (one per node, each with its subscribers connected), the publisher on the
 * first. @returns {Promise<object>} the `cluster` row
 */
async function measure(fleets, setup, opts, redisPid) {
  const { rate, size, durationMs } = opts;
  // Warm-up at the same rate, not measured (as the one-server latency row): the first messages
  // after connecting run cold code on every node.
  if (opts.warmupMs > 0) await rateRun(fleets, { size, rate, durationMs: opts.warmupMs, drainMs: DRAIN_MS });
  const r0 = redisPid ? procCpuUs(redisPid) : 0;
  const runs = await rateRounds(fleets, { size, rate, durationMs, drainMs: DRAIN_MS }, opts.rounds ?? 1);
  const r1 = redisPid ? procCpuUs(redisPid) : 0;
  const fields = roundsFields(runs);
  return {
    scenario: "cluster",
    system: fleets[0].system.id,
    setup,
    nodes: fleets.length,
    n: opts.n,
    size,
    rate,
    // Below `rate` when the publishing node could not keep its timer (a starved core): say so.
    // Over all rounds: what was published over the time publishing took.
    achieved: fields.published / sumOf(runs, (x) => x.published / x.achieved),
    // Counts, latency (the median round's), and the CPU of every node process per delivery.
    ...fields,
    redisCpuUsPerDelivery: redisPid && fields.delivered ? (r1 - r0) / fields.delivered : undefined,
  };
}

async function runSetup(system, nodes, redis, runId, opts) {
  const setup = nodes === 1 ? "1 node" : `${nodes} nodes + Redis`;
  const label = `${system.id} ${setup}`;
  const fleets = [];
  try {
    for (let i = 0; i < nodes; i++) {
      const serverArgs = redis ? [redis.url, `bench-${runId}:`] : [];
      const f = new Fleet(system, { pin: opts.pin, serverArgs, name: `${system.server} node ${i}` });
      fleets.push(f);
      await f.start();
    }
    const shares = spread(opts.n, nodes);
    for (let i = 0; i < nodes; i++) {
      const g = await fleets[i].grow(shares[i], (s) => status(`${label} node ${i}: ${s}`));
      if (g.failed > 0) result(`${label} node ${i}: ${g.failed} of ${shares[i]} subscribers failed to connect${g.error ? ` (${g.error})` : ""}`);
    }
    status(`${label}: ${opts.rate} msg/s`);
    const row = await measure(fleets, setup, opts, redis?.pid);
    result(
      `${label}: p50 ${row.p50.toFixed(2)} ms, p99 ${row.p99.toFixed(2)} ms${roundsNote(row)}, ${row.cpuUsPerDelivery.toFixed(2)} µs node CPU/delivery${row.redisCpuUsPerDelivery !== undefined ? ` + ${row.redisCpuUsPerDelivery.toFixed(2)} µs Redis` : ""}, ${row.delivered}/${row.published * row.open} delivered`,
    );
    return row;
  } finally {
    await Promise.all(fleets.map((f) => f.stop()));
  }
}

/**
 * @param {object[]} systems entries of SYSTEMS whose id is in CLUSTER_SYSTEM_IDS
 * @param {{ nodes: number, n: number, rate: number, size: number, durationMs: number, rounds?: number
 *   (of durationMs each, the median reported; default 1), warmupMs?: number,
 *   pin?: import("../lib/pin.mjs").Pinning }} opts
 * @returns {Promise<{ rows: object[], redis?: { version?: string, pinned: boolean } }>}
 */
export async function runCluster(systems, opts) {
  const rows = [];
  step(`multi-node: ${systems.map((s) => s.id).join(", ")}, 1 node and ${opts.nodes} nodes + Redis, N=${opts.n}, ${opts.rate} msg/s`);
  let redis;
  let info;
  try {
    redis = await startRedisServer({ persistence: "none" });
    const pinned = pinProcess(opts.pin, "server", redis.pid);
    const version = /v=(\S+)/.exec(execFileSync(findRedisServer(), ["--version"], { encoding: "utf8", timeout: 5_000 }))?.[1];
    info = { version, pinned };
    result(`redis-server ${version ?? "?"} on ${redis.url} (pid ${redis.pid}), ${pinned ? "pinned to the server core with the nodes" : "not pinned"}`);
  } catch (err) {
    const message = `redis-server unavailable: ${err instanceof Error ? err.message : err}`;
    result(`multi-node: ${message}; only the one-node rows are measured`);
    rows.push({ scenario: "error", system: "cluster", stage: "redis", message });
  }
  try {
    for (const system of systems) {
      for (const nodes of redis ? [1, opts.nodes] : [1]) {
        try {
          rows.push(await runSetup(system, nodes, nodes === 1 ? undefined : redis, `${Date.now()}-${nodes}`, opts));
        } catch (err) {
          const message = String(err instanceof Error ? err.message : err);
          result(`${system.id} ${nodes} node(s): FAILED: ${message}`);
          rows.push({ scenario: "error", system: system.id, stage: `cluster ${nodes} node(s)`, message });
        }
      }
    }
  } finally {
    await redis?.close();
  }
  return { rows, redis: info };
}
