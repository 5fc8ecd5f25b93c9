#!/usr/bin/env node
/**
 * Multi-node soak (issue #12): `npm run soak:cluster -- --minutes N` (default 10, at most 60;
 * `npm run soak -- --cluster` is the same). Uses the built packages (the npm scripts build first).
 *
 * On 127.0.0.1: a real redis-server (AOF, `@throughline/testkit/redis`), three node processes
 * (scripts/soak-cluster-node.mjs) behind a real nginx with plain round-robin, and clients through
 * nginx on every transport and on default negotiation. Two sequential publishers (one per topic)
 * publish with publishAsync on a different node each time, over HTTP, retrying refusals. Nodes 1
 * and 2 are SIGKILLed in turn and restarted every few seconds; node 3 is never killed, so its RSS
 * over the whole run shows whether a node's memory stays bounded (`--kill-all`: node 3 is killed
 * in turn too, so streams cannot settle on a node that never dies). Redis is restarted with its
 * data `--redis-restarts` times (default 3); `--redis-data-loss K` makes the last K of those
 * restarts lose the data instead (a new epoch: each client must then get a gap at that exact point).
 *
 * At the end (everything is stopped by PID): messages published, per client delivered / lost /
 * duplicated / out of order / gaps (exact or not) / reconnects, publish→receive p50/p99, node RSS
 * over time, Redis memory; printed and written to benchmarks/results/soak-cluster-<N>min.{json,md}
 * (`--out PREFIX` to write elsewhere). Exits 1 on any loss, duplicate, reordering or inexact gap,
 * 2 if the final messages did not arrive.
 */
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { connect } from "@throughline/client/node";
import { freePort, startNginx } from "@throughline/testkit";
import { startRedisServer } from "@throughline/testkit/redis";
import { analyseClient, percentile } from "./soak-cluster-analyse.mjs";

// ---- arguments ----
const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const minutes = Number(arg("--minutes", "10"));
const redisRestarts = Number(arg("--redis-restarts", "3"));
const redisDataLoss = Number(arg("--redis-data-loss", "0"));
/** `--kill-all`: every node is killed in turn (no node survives the run); default: nodes 1 and 2. */
const killAll = argv.includes("--kill-all");
/** `--upstream-params "max_fails=0"`: nginx parameters of every upstream server line (default: nginx's). */
const upstreamParams = arg("--upstream-params", "");
if (!(minutes > 0 && minutes <= 60) || !(redisRestarts >= 0) || !(redisDataLoss >= 0 && redisDataLoss <= redisRestarts)) {
  console.error("usage: node scripts/soak-cluster.mjs [--minutes N] [--redis-restarts R] [--redis-data-loss K] [--kill-all] [--upstream-params P] [--out PREFIX] [--seed S]   (0 < N ≤ 60, default 10; R default 3; K ≤ R, default 0)");
  process.exit(64);
}
const OUT = arg("--out", fileURLToPath(new URL(`../benchmarks/results/soak-cluster-${minutes}min`, import.meta.url)));
let seed = Number(arg("--seed", String((Date.now() >>> 0) || 1))) >>> 0 || 1;
const startSeed = seed;
/** Seeded PRNG (xorshift32), so a schedule can be repeated with --seed. */
const random = () => {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 4294967296;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

const TOPICS = ["a", "b"];
const KINDS = ["sse", "websocket", "long-poll", "default"];
const CLIENTS_PER_KIND = 2;
const NODE_SCRIPT = fileURLToPath(new URL("./soak-cluster-node.mjs", import.meta.url));
const PREFIX = `soak${Date.now().toString(36)}:`;

/** Resident set size of a pid in MiB (Linux /proc), undefined when gone. */
function rssMiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : undefined;
  } catch {
    return undefined;
  }
}

/** Redis INFO memory fields we report (via redis-cli, which comes with redis-server). */
function redisMemory(port) {
  return new Promise((resolve) => {
    execFile("redis-cli", ["-p", String(port), "INFO", "memory"], { timeout: 5_000 }, (err, out) => {
      if (err) return resolve(undefined);
      const field = (k) => Number(new RegExp(`^${k}:(\\d+)`, "m").exec(out)?.[1]);
      resolve({ usedMiB: Math.round((field("used_memory") / 1048576) * 100) / 100, rssMiB: Math.round((field("used_memory_rss") / 1048576) * 100) / 100 });
    });
  });
}

// ---- processes ----
const redis = await startRedisServer({ persistence: "aof" });
const nodes = [];
for (let i = 0; i < 3; i++) nodes.push({ name: `node${i + 1}`, port: await freePort(), child: undefined, up: false, starts: 0, kills: 0 });

async function startNode(node) {
  const child = spawn(process.execPath, [NODE_SCRIPT, redis.url, PREFIX, String(node.port)], { stdio: ["ignore", "pipe", "inherit"] });
  node.child = child;
  node.starts++;
  child.once("exit", () => (node.up = false));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${node.name} did not start within 30 s`)), 30_000);
    createInterface({ input: child.stdout }).on("line", (l) => l === "ready" && (clearTimeout(timer), resolve()));
    child.once("exit", (code, signal) => (clearTimeout(timer), reject(new Error(`${node.name} exited during start (${code ?? signal})`))));
  });
  node.up = true;
}

async function killNode(node, signal = "SIGKILL") {
  const child = node.child;
  node.up = false;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill(signal);
  await exited;
}

let proxy;
let stopping = false;
const clients = [];
async function teardown() {
  stopping = true;
  for (const c of clients) c.ch.close();
  await proxy?.close();
  await Promise.all(
    nodes.map(async (n) => {
      // SIGTERM (graceful close), SIGKILL if it takes longer than 5 s.
      const late = setTimeout(() => n.child?.kill("SIGKILL"), 5_000);
      await killNode(n, "SIGTERM");
      clearTimeout(late);
    }),
  );
  await redis.close();
}
// Never outlive the bound: the run, the final wait and teardown, whatever happens.
const hardStop = setTimeout(async () => {
  console.error("soak:cluster: hard time bound reached, stopping everything");
  await Promise.race([teardown(), sleep(15_000)]);
  for (const n of nodes) n.child?.kill("SIGKILL");
  process.exit(3);
}, minutes * 60_000 + 240_000);
hardStop.unref();
process.once("SIGINT", () => void teardown().finally(() => process.exit(130)));

await Promise.all(nodes.map(startNode));
const targets = nodes.map((n) => `http://127.0.0.1:${n.port}`);
proxy = await startNginx({ target: targets[0], moreTargets: targets.slice(1), config: "tuned", serverParams: upstreamParams });

// ---- clients ----
const confirmed = new Map(TOPICS.map((t) => [t, new Map()]));
const attempts = new Map(TOPICS.map((t) => [t, 0]));
const sentAt = new Map(TOPICS.map((t) => [t, new Map()]));

for (const kind of KINDS) {
  for (let i = 0; i < CLIENTS_PER_KIND; i++) {
    const ch = connect(`${proxy.url}/rt`, {
      topics: TOPICS,
      reconnect: { minDelayMs: 50, maxDelayMs: 1_000 },
      connectTimeoutMs: 10_000,
      ...(kind === "default" ? {} : { transports: [kind] }),
    });
    const c = { name: `${kind}#${i + 1}`, kind, ch, events: [], latencies: [], opens: 0, errors: 0, closedForGood: undefined, transports: new Set() };
    ch.on("open", () => {
      c.opens++;
      if (ch.transport) c.transports.add(ch.transport);
    });
    ch.on("*", (m) => {
      const n = m.data?.n;
      c.events.push({ kind: "msg", topic: m.topic, n, id: m.id });
      const t = m.data?.t;
      if (typeof t === "number") c.latencies.push(now() - t);
    });
    ch.on("gap", (g) => c.events.push({ kind: "gap", topic: g.topic, reason: g.reason }));
    ch.on("error", () => c.errors++);
    ch.on("close", (info) => {
      if (!stopping) c.closedForGood = info?.code ?? "closed";
    });
    clients.push(c);
  }
}
const openDeadline = Date.now() + 30_000;
while (clients.some((c) => c.opens === 0)) {
  if (Date.now() > openDeadline) {
    console.error(`soak:cluster: clients did not open within 30 s: ${clients.filter((c) => c.opens === 0).map((c) => c.name).join(", ")}`);
    await teardown();
    process.exit(2);
  }
  await sleep(50);
}

// ---- publishers ----
const counters = { confirmed: 0, refused: 0, unanswered: 0, nodeKills: 0, redisRestarts: 0, redisDataLoss: 0 };
const refusals = new Map();
let nextNode = 0;
/** One publish attempt on the next node in turn (any node, up or not: a dead one refuses). */
async function publishOnce(topic) {
  const n = attempts.get(topic);
  attempts.set(topic, n + 1);
  const node = nodes[nextNode++ % nodes.length];
  const t = now();
  sentAt.get(topic).set(n, t);
  try {
    const res = await fetch(`http://127.0.0.1:${node.port}/publish?topic=${topic}&n=${n}&t=${t}`, { method: "POST", signal: AbortSignal.timeout(10_000) });
    const body = await res.text();
    if (res.status === 200) {
      confirmed.get(topic).set(n, body);
      counters.confirmed++;
      return true;
    }
    counters.refused++;
    refusals.set(body, (refusals.get(body) ?? 0) + 1);
  } catch (err) {
    // No answer (the node was dead or died mid-request): the message may or may not exist.
    counters.unanswered++;
    const key = err?.cause?.code ?? err?.name ?? "error";
    refusals.set(key, (refusals.get(key) ?? 0) + 1);
  }
  return false;
}

const started = Date.now();
const endAt = started + minutes * 60_000;
console.log(`soak:cluster: ${minutes} min, seed ${startSeed}, Redis ${redis.url} (AOF), nodes ${nodes.map((n) => n.port).join(", ")}, nginx ${proxy.url} (round-robin), ${clients.length} clients (${KINDS.join(", ")} ×${CLIENTS_PER_KIND}), topics ${TOPICS.join(",")}`);

const publishers = TOPICS.map(async (topic) => {
  while (Date.now() < endAt) {
    if (!(await publishOnce(topic))) await sleep(50);
    else await sleep(10 + Math.floor(random() * 20));
  }
});

// ---- chaos: nodes 1 and 2 killed in turn every 3–6 s, restarted 0.5–2 s later; Redis restarts ----
const redisAt = Array.from({ length: redisRestarts }, (_, i) => started + ((i + 1) / (redisRestarts + 1)) * minutes * 60_000);
const redisEvents = [];
const chaos = (async () => {
  let turn = 0;
  while (Date.now() < endAt - 5_000) {
    await sleep(3_000 + Math.floor(random() * 3_000));
    if (Date.now() >= endAt - 5_000) break;
    if (redisAt.length > 0 && Date.now() >= redisAt[0]) {
      redisAt.shift();
      const keepData = redisAt.length >= redisDataLoss;
      const t0 = Date.now();
      await redis.restart({ keepData });
      counters.redisRestarts++;
      if (!keepData) counters.redisDataLoss++;
      redisEvents.push({ atS: Math.round((t0 - started) / 1000), keepData, downMs: Date.now() - t0 });
      console.log(`[${Math.round((Date.now() - started) / 1000)}s] redis restarted ${keepData ? "with its data" : "WITHOUT its data"} (${Date.now() - t0} ms)`);
      continue;
    }
    const node = nodes[turn++ % (killAll ? nodes.length : 2)];
    await killNode(node);
    node.kills++;
    counters.nodeKills++;
    await sleep(500 + Math.floor(random() * 1_500));
    await startNode(node).catch((err) => console.error(`soak:cluster: ${err.message}`));
  }
})();

// ---- samples every 10 s ----
const samples = [];
const delivered = () => clients.reduce((s, c) => s + c.events.length, 0);
const sampler = setInterval(async () => {
  const s = { atS: Math.round((Date.now() - started) / 1000), nodesRssMiB: nodes.map((n) => (n.up ? rssMiB(n.child.pid) : null)), soakRssMiB: Math.round((process.memoryUsage().rss / 1048576) * 10) / 10, redis: await redisMemory(redis.port) };
  samples.push(s);
  console.log(
    `[${s.atS}s] published ${counters.confirmed} (+${counters.refused} refused, ${counters.unanswered} unanswered), received ${delivered()}, node kills ${counters.nodeKills}, redis restarts ${counters.redisRestarts}, node RSS ${s.nodesRssMiB.map((r) => r ?? "-").join("/")} MiB, redis ${s.redis?.usedMiB ?? "-"} MiB`,
  );
}, 10_000);

await Promise.all(publishers);
await chaos;
// Every node up again before the final messages (one may have been restarting).
await Promise.all(nodes.filter((n) => !n.up).map((n) => startNode(n).catch((err) => console.error(err.message))));

// Final message per topic, retried until confirmed: once every client has it, everything
// before it was delivered, gapped or lost.
const finals = new Map();
for (const topic of TOPICS) {
  for (let i = 0; i < 200 && !finals.has(topic); i++) {
    const n = attempts.get(topic);
    if (await publishOnce(topic)) finals.set(topic, n);
    else await sleep(100);
  }
}
const hasFinals = (c) => [...finals].every(([topic, n]) => c.events.some((e) => e.kind === "msg" && e.topic === topic && e.n === n));
const finalDeadline = Date.now() + 60_000;
while (!clients.every(hasFinals) && Date.now() < finalDeadline) await sleep(100);
await sleep(1_000); // a duplicate would arrive now
clearInterval(sampler);
const complete = finals.size === TOPICS.length && clients.every(hasFinals);
const durationS = Math.round((Date.now() - started) / 1000);
const finalRedis = await redisMemory(redis.port);
await teardown();
clearTimeout(hardStop);

// ---- figures ----
const round = (x) => (x === undefined ? null : Math.round(x * 10) / 10);
const perClient = clients.map((c) => {
  const r = analyseClient(c.events, confirmed, attempts);
  const sorted = c.latencies.slice().sort((a, b) => a - b);
  return {
    client: c.name,
    transports: [...c.transports],
    received: r.delivered,
    unique: r.unique,
    lost: r.lost,
    duplicated: r.duplicated,
    outOfOrder: r.outOfOrder,
    gapEvents: r.gapEvents,
    gapsExact: r.gaps.filter((g) => g.exact).length,
    gapsInexact: r.gaps.filter((g) => !g.exact).length,
    gapCovered: r.gapCovered,
    unconfirmedDelivered: r.unconfirmedDelivered,
    reconnects: Math.max(0, c.opens - 1),
    clientErrors: c.errors,
    closedForGood: c.closedForGood ?? null,
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    gaps: r.gaps,
    lostSamples: r.lostSamples,
  };
});
const all = clients.flatMap((c) => c.latencies).sort((a, b) => a - b);
const nodeRss = nodes.map((n, i) => {
  const series = samples.map((s) => s.nodesRssMiB[i]).filter((x) => x !== null && x !== undefined);
  return { node: n.name, killed: n.kills, starts: n.starts, minMiB: series.length ? Math.min(...series) : null, maxMiB: series.length ? Math.max(...series) : null, firstMinuteMaxMiB: Math.max(...samples.filter((s) => s.atS <= 60).map((s) => s.nodesRssMiB[i] ?? 0)), lastMinuteMaxMiB: Math.max(...samples.filter((s) => s.atS > durationS - 70).map((s) => s.nodesRssMiB[i] ?? 0)) };
});
const redisUsed = samples.map((s) => s.redis?.usedMiB).filter((x) => typeof x === "number");
const totals = perClient.reduce((t, c) => ({ lost: t.lost + c.lost, duplicated: t.duplicated + c.duplicated, outOfOrder: t.outOfOrder + c.outOfOrder, gapsInexact: t.gapsInexact + c.gapsInexact }), { lost: 0, duplicated: 0, outOfOrder: 0, gapsInexact: 0 });
const result = {
  kind: "soak-cluster",
  date: new Date().toISOString(),
  node: process.version,
  minutes,
  durationS,
  seed: startSeed,
  setup: { redis: "redis-server, AOF appendfsync always", nodes: 3, proxy: "nginx, plain round-robin (testkit 'tuned' config)", clients: clients.length, kinds: KINDS, topics: TOPICS },
  published: { attempts: [...attempts.values()].reduce((a, b) => a + b, 0), confirmed: counters.confirmed, refused: counters.refused, unanswered: counters.unanswered, refusalCodes: Object.fromEntries(refusals) },
  chaos: { killAll, upstreamParams, nodeKills: counters.nodeKills, redisRestarts: counters.redisRestarts, redisRestartsWithoutData: counters.redisDataLoss, redisEvents },
  complete,
  totals,
  latencyMs: { deliveries: all.length, p50: round(percentile(all, 50)), p99: round(percentile(all, 99)), max: round(all.at(-1)) },
  clients: perClient,
  nodeRss,
  redisMemoryMiB: { min: redisUsed.length ? Math.min(...redisUsed) : null, max: redisUsed.length ? Math.max(...redisUsed) : null, final: finalRedis?.usedMiB ?? null },
  samples,
  loadAverage: (await import("node:os")).loadavg().map((x) => Math.round(x * 100) / 100),
};

const md = [
  `# Multi-node soak, ${minutes} min (${result.date})`,
  "",
  `\`npm run soak:cluster -- --minutes ${minutes}${killAll ? " --kill-all" : ""}${upstreamParams ? ` --upstream-params "${upstreamParams}"` : ""}\`: Redis (AOF) + 3 node processes (${killAll ? "all three killed in turn" : "nodes 1 and 2 killed in turn, node 3 never"}) behind nginx round-robin${upstreamParams ? ` (server ${upstreamParams})` : ""}, ${clients.length} clients through nginx (${KINDS.join(", ")}), seed ${startSeed}, Node ${process.version}. Load average at the end: ${result.loadAverage.join(", ")} (shared 2-core machine: latencies are noisy).`,
  "",
  `Published: ${counters.confirmed} confirmed (${counters.refused} refused, ${counters.unanswered} unanswered: retried as new messages). Chaos: ${counters.nodeKills} node SIGKILLs + restarts, ${counters.redisRestarts} Redis restarts (${counters.redisDataLoss} without data). Final messages reached every client: ${complete ? "yes" : "NO"}.`,
  "",
  "| client | transports used | received | lost | duplicated | out of order | gaps (exact/inexact) | reconnects | p50 ms | p99 ms |",
  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ...perClient.map((c) => `| ${c.client} | ${c.transports.join(", ")} | ${c.received} | ${c.lost} | ${c.duplicated} | ${c.outOfOrder} | ${c.gapsExact}/${c.gapsInexact} | ${c.reconnects} | ${c.p50Ms} | ${c.p99Ms} |`),
  "",
  `All deliveries: p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, max ${result.latencyMs.max} ms (publish request sent → received, same clock; includes resumes after kills).`,
  "",
  "| node | killed | RSS min MiB | RSS max MiB | max in first minute | max in last minute |",
  "| --- | --- | --- | --- | --- | --- |",
  ...nodeRss.map((n) => `| ${n.node} | ${n.killed} | ${n.minMiB} | ${n.maxMiB} | ${n.firstMinuteMaxMiB} | ${n.lastMinuteMaxMiB} |`),
  "",
  `Redis used_memory: ${result.redisMemoryMiB.min}–${result.redisMemoryMiB.max} MiB (final ${result.redisMemoryMiB.final} MiB; history trimmed at 10 000 entries).`,
  "",
].join("\n");
writeFileSync(`${OUT}.json`, JSON.stringify(result, null, 2) + "\n");
writeFileSync(`${OUT}.md`, md);
console.log(`\n${md}`);
console.log(`written: ${OUT}.json, ${OUT}.md`);

const bad = totals.lost + totals.duplicated + totals.outOfOrder + totals.gapsInexact;
if (!complete) {
  console.log("RESULT: FAIL — final messages did not reach every client within 60 s");
  process.exit(2);
}
if (bad > 0) {
  console.log(`RESULT: FAIL — lost ${totals.lost}, duplicated ${totals.duplicated}, out of order ${totals.outOfOrder}, inexact gaps ${totals.gapsInexact}`);
  process.exit(1);
}
console.log("RESULT: OK — nothing lost, duplicated or reordered; every gap (if any) at the exact point the history ended");
process.exit(0);
