#!/usr/bin/env node
/**
 * Multi-node figures (issue #12): `npm run bench:cluster` (builds first). Publish → receive latency
 * of one node (memory history) next to three nodes on one Redis (the backplane), same load: SUBS
 * raw SSE subscribers spread over the nodes, one publisher at RATE msg/s on the first node for
 * SECONDS. Each message carries its publish time; a subscriber records receive − publish (one
 * machine, one clock). Also: server CPU (user+system of the node processes) per delivery.
 * Writes benchmarks/results/cluster.json and prints a Markdown table. Bounded: fixed duration.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { createServer as createNet } from "node:net";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { startRedisServer } from "@throughline/testkit/redis";
import { Histogram } from "./lib/hist.mjs";

const SUBS = Number(process.env.SUBS ?? 300);
const RATE = Number(process.env.RATE ?? 50);
const SECONDS = Number(process.env.SECONDS ?? 8);
const NODE = resolve(import.meta.dirname, "servers/cluster-node.mjs");

async function freePort() {
  const s = createNet().listen(0, "127.0.0.1");
  await once(s, "listening");
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function startNode(redisUrl) {
  const port = await freePort();
  const child = spawn(process.execPath, [NODE, redisUrl ?? "-", String(port)], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  await new Promise((res, rej) => {
    lines.on("line", (l) => l === "ready" && res());
    child.once("exit", (c) => rej(new Error(`node exited ${c}`)));
    setTimeout(() => rej(new Error("node start timeout")), 30_000).unref();
  });
  return { port, child };
}

/** CPU ms (user + system) of a process so far, from /proc (Linux). */
function cpuMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in clock ticks (100 Hz)
}

function subscribe(port, hist, counter) {
  return new Promise((res) => {
    const req = request({ host: "127.0.0.1", port, path: "/rt/sse?topics=bench", headers: { accept: "text/event-stream" } }, (r) => {
      r.setEncoding("utf8");
      let buf = "";
      r.on("data", (chunk) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.startsWith('data: {"topic":"bench","data":')) {
            hist.record(performance.timeOrigin + performance.now() - JSON.parse(line.slice(6)).data.t);
            counter.n++;
          }
        }
      });
      res(req);
    });
    req.on("error", () => {});
    req.end();
  });
}

function publish(port) {
  return new Promise((res) => {
    const req = request({ host: "127.0.0.1", port, path: "/publish", method: "POST" }, (r) => (r.resume(), r.on("end", () => res(r.statusCode))));
    req.on("error", () => res(0));
    req.end();
  });
}

async function run(label, nodes) {
  const hist = new Histogram();
  const counter = { n: 0 };
  const reqs = [];
  for (let i = 0; i < SUBS; i++) reqs.push(await subscribe(nodes[i % nodes.length].port, hist, counter));
  await new Promise((r) => setTimeout(r, 500));
  const cpu0 = nodes.map((n) => cpuMs(n.child.pid));
  const total = RATE * SECONDS;
  const started = performance.now();
  for (let k = 0; k < total; k++) {
    await publish(nodes[0].port);
    const wait = started + ((k + 1) * 1000) / RATE - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const deadline = Date.now() + 10_000;
  while (counter.n < total * SUBS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const cpu = nodes.reduce((sum, n, i) => sum + cpuMs(n.child.pid) - cpu0[i], 0);
  for (const r of reqs) r.destroy();
  return { label, subscribers: SUBS, rate: RATE, seconds: SECONDS, received: counter.n, expected: total * SUBS, p50: hist.quantile(0.5), p99: hist.quantile(0.99), cpuUsPerDelivery: (cpu * 1000) / Math.max(1, counter.n) };
}

async function stop(nodes) {
  for (const n of nodes) {
    n.child.kill("SIGTERM");
    await once(n.child, "exit");
  }
}

const rows = [];
const single = [await startNode(undefined)];
try {
  rows.push(await run("1 node (memory)", single));
} finally {
  await stop(single);
}
const redis = await startRedisServer({ persistence: "none" });
try {
  const three = [];
  for (let i = 0; i < 3; i++) three.push(await startNode(redis.url));
  try {
    rows.push(await run("3 nodes + Redis", three));
  } finally {
    await stop(three);
  }
} finally {
  await redis.close();
}
const fmt = (v) => v.toFixed(2);
console.log("| setup | subscribers | msg/s | delivered | p50 ms | p99 ms | server CPU µs / delivery |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const r of rows) console.log(`| ${r.label} | ${r.subscribers} | ${r.rate} | ${r.received}/${r.expected} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.cpuUsPerDelivery)} |`);
const out = resolve(import.meta.dirname, "results");
await mkdir(out, { recursive: true });
await writeFile(resolve(out, "cluster.json"), JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2) + "\n");
