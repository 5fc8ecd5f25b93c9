#!/usr/bin/env node
/**
 * Redis backplane figures (issue #12 foundation): `node benchmarks/redis.mjs` after `npm run build`.
 * Starts its own redis-server on a free loopback port (testkit), then measures
 * - append latency: one node appending one message at a time (append resolves once the message is
 *   in the shared history), p50/p99;
 * - append → ingest latency: from append() to the message arriving through another node's ingest;
 * - throughput: appends/s with 50 in flight, and how fast another node ingests them;
 * - Redis memory per 10k history entries, for two payload sizes (`used_memory` delta, and
 *   `MEMORY USAGE` of the stream key).
 * Writes benchmarks/results/redis.json and prints a Markdown table. Bounded: fixed counts.
 */
import { writeFile, mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { Redis } from "ioredis";
import { redisBackplane } from "@throughline/redis";
import { startRedisServer } from "@throughline/testkit/redis";
import { Histogram } from "./lib/hist.mjs";

const APPENDS = Number(process.env.APPENDS ?? 5_000);
const HISTORY = 10_000;

const server = await startRedisServer({ persistence: "none" });
const out = { date: new Date().toISOString(), node: process.version, redis: "", appends: APPENDS };
try {
  const admin = new Redis(server.url, { protocol: 2 });
  out.redis = /redis_version:(\S+)/.exec(await admin.info("server"))?.[1] ?? "?";

  // Latency: 200-byte payloads, sequential appends, a second node ingesting.
  const writer = redisBackplane({ url: server.url, keyPrefix: "bench:", historyLength: HISTORY });
  const reader = redisBackplane({ url: server.url, keyPrefix: "bench:", historyLength: HISTORY });
  const sentAt = new Map();
  const ingest = new Histogram();
  let received = 0;
  let allIn;
  const done = new Promise((r) => (allIn = r));
  await reader.subscribe({
    message(m) {
      const t0 = sentAt.get(m.seq);
      if (t0 !== undefined) ingest.record(performance.now() - t0);
      if (++received === APPENDS) allIn();
    },
    gap() {},
  });
  const payload = JSON.stringify({ text: "x".repeat(180) });
  for (let i = 0; i < 200; i++) await writer.append("warmup", "message", payload);
  received -= 200;
  const append = new Histogram();
  for (let i = 0; i < APPENDS; i++) {
    const t0 = performance.now();
    // The seq is known only after append resolves; the ingest may be first, so record by expected seq.
    sentAt.set(201 + i, t0);
    await writer.append(`topic-${i % 10}`, "message", payload);
    append.record(performance.now() - t0);
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 30_000))]);
  out.appendMs = { p50: append.quantile(0.5), p99: append.quantile(0.99), max: append.max };
  out.ingestMs = { p50: ingest.quantile(0.5), p99: ingest.quantile(0.99), max: ingest.max, n: ingest.n };
  // Throughput: 10 000 appends, 50 in flight, until the other node has ingested them all.
  const burst = 10_000;
  let burstIn = 0;
  let burstDone;
  const burstAll = new Promise((r) => (burstDone = r));
  await reader.subscribe({ message: () => void (++burstIn === burst && burstDone()), gap() {} });
  const tb = performance.now();
  for (let i = 0; i < burst; i += 50) await Promise.all(Array.from({ length: 50 }, () => writer.append("burst", "message", payload)));
  const appended = performance.now() - tb;
  await Promise.race([burstAll, new Promise((r) => setTimeout(r, 30_000))]);
  out.throughput = { messages: burst, inFlight: 50, appendPerSec: Math.round(burst / (appended / 1000)), ingestedPerSec: Math.round(burstIn / ((performance.now() - tb) / 1000)) };
  await writer.close();
  await reader.close();

  // Memory per 10k entries, per payload size, each on an empty Redis.
  out.memory = [];
  for (const bytes of [100, 1024]) {
    await admin.flushall();
    const before = Number(/used_memory:(\d+)/.exec(await admin.info("memory"))?.[1]);
    const b = redisBackplane({ url: server.url, keyPrefix: "mem:", historyLength: HISTORY });
    const data = JSON.stringify({ text: "y".repeat(bytes - 11) });
    // Pipelined a little for speed; order is irrelevant for the memory figure.
    for (let i = 0; i < HISTORY; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => b.append(`topic-${(i + j) % 100}`, "message", data)));
    const after = Number(/used_memory:(\d+)/.exec(await admin.info("memory"))?.[1]);
    const streamBytes = await admin.call("MEMORY", "USAGE", "mem:{h}:log", "SAMPLES", "0");
    out.memory.push({ payloadBytes: data.length, entries: HISTORY, usedMemoryDeltaMiB: (after - before) / 2 ** 20, streamMiB: Number(streamBytes) / 2 ** 20 });
    await b.close();
  }
  admin.disconnect();
} finally {
  await server.close();
}

const f = (n) => n.toFixed(2);
console.log(`Redis backplane, Node ${out.node}, redis-server ${out.redis}, ${APPENDS} appends on loopback\n`);
console.log("| measure | p50 | p99 | max |\n| --- | --- | --- | --- |");
console.log(`| append (resolved once stored) | ${f(out.appendMs.p50)} ms | ${f(out.appendMs.p99)} ms | ${f(out.appendMs.max)} ms |`);
console.log(`| append → ingest on another node | ${f(out.ingestMs.p50)} ms | ${f(out.ingestMs.p99)} ms | ${f(out.ingestMs.max)} ms |`);
console.log(`\nthroughput: ${out.throughput.appendPerSec} appends/s (${out.throughput.inFlight} in flight), ${out.throughput.ingestedPerSec} ingested/s on another node`);
console.log("\n| payload | entries | Redis used_memory delta | stream key (MEMORY USAGE) |\n| --- | --- | --- | --- |");
for (const m of out.memory) console.log(`| ${m.payloadBytes} B | ${m.entries} | ${f(m.usedMemoryDeltaMiB)} MiB | ${f(m.streamMiB)} MiB |`);
const dir = resolve(import.meta.dirname, "results");
await mkdir(dir, { recursive: true });
await writeFile(resolve(dir, "redis.json"), JSON.stringify(out, null, 2) + "\n");
