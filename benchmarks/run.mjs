#!/usr/bin/env node
/**
 * Throughline's benchmark harness: `npm run bench` (builds first) or `node benchmarks/run.mjs`.
 * Servers and load clients run in separate processes on loopback; every step is bounded in time;
 * results are printed as tables and written as JSON, Markdown and an SVG chart. See README.md.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { killAll } from "./lib/proc.mjs";
import { decidePinning, pinProcess } from "./lib/pin.mjs";
import { result, step } from "./lib/progress.mjs";
import { SYSTEM_IDS, systemById } from "./systems.mjs";
import { runLoad } from "./scenarios/load.mjs";
import { runMemory } from "./scenarios/memory.mjs";
import { SCALE_SYSTEMS, runScale } from "./scenarios/scale.mjs";
import { runTtfm } from "./scenarios/ttfm.mjs";
import { CLUSTER_SYSTEM_IDS, runCluster } from "./scenarios/cluster.mjs";
import { UNIX_SYSTEM_IDS, runLatencyUnix } from "./scenarios/latency-unix.mjs";
import { resolveNetworks } from "./networks.mjs";
import { measureSizes } from "./size.mjs";
import { renderTables } from "./report/table.mjs";
import { renderSvg } from "./report/svg.mjs";

/** Every option with its default; the defaults finish in about 15 minutes on 2 cores (921 s on 2026-12-06). */
export const DEFAULTS = Object.freeze({
  scenarios: "fanout,latency,unix,memory,cpu,ttfm,size,cluster",
  systems: SYSTEM_IDS.join(","),
  subscribers: "100,1000,max",
  "max-subscribers": "10000",
  "max-step": "2500",
  sizes: "64,4096",
  duration: "2",
  "latency-duration": "10",
  "latency-rounds": "3",
  warmup: "0.5",
  "latency-subscribers": "1000",
  rate: "100",
  "latency-size": "64",
  "memory-subscribers": "1000,5000",
  "scale-levels": "10000,50000",
  "scale-processes": "5",
  networks: "all",
  "ttfm-trials": "10",
  "hostile-trials": "3",
  "ttfm-timeout": "8",
  client: "raw",
  pin: "auto",
  "cpu-rates": "1000,5000",
  "cluster-systems": CLUSTER_SYSTEM_IDS.join(","),
  "cluster-nodes": "3",
  "cluster-subscribers": "300",
  out: "benchmarks/results",
  name: "latest",
  render: "",
  "refresh-size": "",
});

// `scale` is not in the default run (it holds 50,000 connections per system): ask for it.
const SCENARIOS = ["fanout", "latency", "unix", "memory", "cpu", "ttfm", "size", "cluster", "scale"];

const HELP = `Throughline benchmarks: Throughline's SSE, WebSocket and long-poll next to raw ws, a raw
node:http SSE writer, Socket.IO (websocket, polling) and better-sse, in one run.

Usage: npm run bench -- [options]        (builds the packages first)
       node benchmarks/run.mjs [options] (after npm run build)

Options (default in brackets):
  --scenarios LIST         ${SCENARIOS.join(",")} [${DEFAULTS.scenarios}]
                             fanout   messages/s delivered to all N subscribers, one publisher
                             latency  publish→receive p50/p99/max at a fixed rate
                             unix     the latency row of ${UNIX_SYSTEM_IDS.join(" and ")} over a Unix
                                      socket with the native load client (native/ws-load.c,
                                      built with $CC or cc): where neither side saturates a core
                             cpu      server CPU µs per delivered message (fixed rate + fan-out),
                                      and at the high --cpu-rates (WebSocket and SSE systems)
                             memory   server RSS / heap growth per idle connection
                             scale    idle connections held and RSS per GB, up to --scale-levels
                                      (${SCALE_SYSTEMS.join(", ")}; not in the default list)
                             ttfm     time to first message from connect(), direct + hostile networks;
                                      with what arrived of the messages published during the
                                      negotiation and the largest delivery gap after the first
                             size     browser client min+gzip (esbuild; and + terser) vs socket.io-client & co
                             cluster  one node vs --cluster-nodes nodes on one redis-server
                                      (Throughline backplane, Socket.IO redis-adapter): p50/p99
                                      and server CPU per delivery at --rate
  --systems LIST           ${SYSTEM_IDS.join(",")} [all]
  --subscribers LIST       fan-out subscriber counts; "max" = as many as the machine holds
                           (grows by --max-step up to --max-subscribers) [${DEFAULTS.subscribers}]
  --max-subscribers N      cap for "max" [${DEFAULTS["max-subscribers"]}]
  --max-step N             growth step for "max" [${DEFAULTS["max-step"]}]
  --sizes LIST             fan-out payload sizes in bytes [${DEFAULTS.sizes}]
  --duration S             seconds measured per fan-out run and high-rate CPU row [${DEFAULTS.duration}]
  --latency-duration S     seconds measured for the latency row at --rate (its p99 rests on rate × S messages) [${DEFAULTS["latency-duration"]}]
  --latency-rounds K       rounds of --latency-duration for the latency and multi-node rows; each row reports the median round's p50/p99 and lists every round's p99 [${DEFAULTS["latency-rounds"]}]
  --warmup S               seconds of fan-out (and of the latency rate) before measuring [${DEFAULTS.warmup}]
  --latency-subscribers N  subscribers for latency and fixed-rate CPU [${DEFAULTS["latency-subscribers"]}]
  --rate R                 messages/s for latency and fixed-rate CPU [${DEFAULTS.rate}]
  --latency-size B         payload bytes for latency [${DEFAULTS["latency-size"]}]
  --memory-subscribers L   idle connection counts for memory [${DEFAULTS["memory-subscribers"]}]
  --scale-levels L         idle connection counts for scale, ascending on one server [${DEFAULTS["scale-levels"]}]
  --scale-processes N      load-client processes for scale, each from its own address [${DEFAULTS["scale-processes"]}]
  --networks LIST|all      direct and hostile networks for ttfm (networks.mjs) [${DEFAULTS.networks}]
  --ttfm-trials N          connects per client on the direct network [${DEFAULTS["ttfm-trials"]}]
  --hostile-trials N       connects per client on each hostile network [${DEFAULTS["hostile-trials"]}]
  --ttfm-timeout S         give up on one connect after S seconds [${DEFAULTS["ttfm-timeout"]}]
  --client raw|official    load clients: raw (one cheap client per protocol, the same for every
                           system on it) or each system's own client library [${DEFAULTS.client}]
  --pin auto|off           auto: server under test on core 0, load clients and the runner on
                           the other cores with taskset (when installed and ≥ 2 cores) [${DEFAULTS.pin}]
  --cpu-rates LIST         high fixed rates (msg/s) for server CPU per delivery at
                           --latency-subscribers [${DEFAULTS["cpu-rates"]}]
  --cluster-systems LIST   ${CLUSTER_SYSTEM_IDS.join(",")} [all three]
  --cluster-nodes K        nodes sharing one Redis [${DEFAULTS["cluster-nodes"]}]
  --cluster-subscribers N  subscribers spread over the nodes [${DEFAULTS["cluster-subscribers"]}]
  --out DIR                where results go [${DEFAULTS.out}]
  --name NAME              result file names: NAME.json, NAME.md, NAME.svg [${DEFAULTS.name}]
  --render FILE.json       measure nothing: rewrite the .md and .svg next to an earlier result
  --refresh-size FILE.json re-measure only the (exact, machine-independent) size rows of an earlier
                           result, note the date and commit in it, and rewrite its .md and .svg
  -h, --help               this text

Example (quick): node benchmarks/run.mjs --scenarios fanout,latency --subscribers 100 --duration 1
`;

function list(v) {
  return String(v)
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function positive(name, v, { integer = true } = {}) {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`--${name} must be a positive ${integer ? "integer" : "number"} (got ${v})`);
  return n;
}

/** Parses and validates the command line. @throws Error with a message for the user */
export function parseOptions(argv) {
  const options = Object.fromEntries(Object.keys(DEFAULTS).map((k) => [k, { type: "string" }]));
  options.help = { type: "boolean", short: "h" };
  const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  if (values.help) return { help: true };
  const v = { ...DEFAULTS, ...values };
  const scenarios = list(v.scenarios);
  for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario "${s}"; one of ${SCENARIOS.join(", ")}`);
  const systems = list(v.systems);
  for (const s of systems) if (!systemById(s)) throw new Error(`unknown system "${s}"; one of ${SYSTEM_IDS.join(", ")}`);
  const levels = list(v.subscribers).map((s) => (s === "max" ? "max" : positive("subscribers", s)));
  if (!["raw", "official"].includes(v.client)) throw new Error(`--client must be raw or official (got ${v.client})`);
  if (!["auto", "off"].includes(v.pin)) throw new Error(`--pin must be auto or off (got ${v.pin})`);
  const clusterSystems = list(v["cluster-systems"]);
  for (const s of clusterSystems) if (!CLUSTER_SYSTEM_IDS.includes(s)) throw new Error(`unknown cluster system "${s}"; one of ${CLUSTER_SYSTEM_IDS.join(", ")}`);
  return {
    scenarios,
    systems: systems.map(systemById),
    levels,
    maxSubscribers: positive("max-subscribers", v["max-subscribers"]),
    maxStep: positive("max-step", v["max-step"]),
    sizes: list(v.sizes).map((s) => positive("sizes", s)),
    durationMs: positive("duration", v.duration, { integer: false }) * 1000,
    latencyDurationMs: positive("latency-duration", v["latency-duration"], { integer: false }) * 1000,
    latencyRounds: positive("latency-rounds", v["latency-rounds"]),
    warmupMs: Number(v.warmup) * 1000,
    rateN: positive("latency-subscribers", v["latency-subscribers"]),
    rate: { rate: positive("rate", v.rate), size: positive("latency-size", v["latency-size"]) },
    memoryLevels: list(v["memory-subscribers"]).map((s) => positive("memory-subscribers", s)),
    scaleLevels: list(v["scale-levels"]).map((s) => positive("scale-levels", s)),
    scaleProcesses: positive("scale-processes", v["scale-processes"]),
    networks: v.networks === "all" ? "all" : list(v.networks),
    trials: positive("ttfm-trials", v["ttfm-trials"]),
    hostileTrials: positive("hostile-trials", v["hostile-trials"]),
    timeoutMs: positive("ttfm-timeout", v["ttfm-timeout"], { integer: false }) * 1000,
    clientMode: v.client,
    pin: v.pin,
    cpuRates: list(v["cpu-rates"]).map((s) => positive("cpu-rates", s)),
    cluster: {
      systems: clusterSystems.map(systemById),
      nodes: positive("cluster-nodes", v["cluster-nodes"]),
      n: positive("cluster-subscribers", v["cluster-subscribers"]),
    },
    out: resolve(v.out),
    name: v.name,
    render: v.render ? resolve(v.render) : undefined,
    refreshSize: v["refresh-size"] ? resolve(v["refresh-size"]) : undefined,
  };
}

async function main() {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${err.message}\n\n${HELP}`);
    process.exitCode = 2;
    return;
  }
  if (opts.help) {
    process.stdout.write(HELP);
    return;
  }
  if (opts.refreshSize) {
    const doc = JSON.parse(await readFile(opts.refreshSize, "utf8"));
    doc.results = [...doc.results.filter((r) => r.scenario !== "size"), ...(await measureSizes())];
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    doc.meta.sizeMeasured = { date: new Date().toISOString(), commit };
    await writeFile(opts.refreshSize, `${JSON.stringify(doc, null, 2)}\n`);
    opts.render = opts.refreshSize;
  }
  if (opts.render) {
    const doc = JSON.parse(await readFile(opts.render, "utf8"));
    const base = opts.render.replace(/\.json$/, "");
    await writeFile(`${base}.md`, `${renderTables(doc)}\n`);
    await writeFile(`${base}.svg`, renderSvg(doc));
    process.stdout.write(`${renderTables(doc)}\n`);
    return;
  }
  const started = Date.now();
  const has = (s) => opts.scenarios.includes(s);
  const results = [];
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model?.trim(),
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    options: { ...opts, systems: opts.systems.map((s) => s.id), cluster: { ...opts.cluster, systems: opts.cluster.systems.map((s) => s.id) } },
  };
  step(`bench: ${opts.scenarios.join(", ")} for ${opts.systems.map((s) => s.id).join(", ")} (${meta.cpus} cores, Node ${process.version})`);
  const pin = decidePinning(opts.pin);
  // The runner forwards credit and collects counters: keep it off the server's core too.
  if (pin.enabled && !pinProcess(pin, "clients", process.pid)) pin.runner = "not pinned (taskset -p failed)";
  meta.pinning = pin;
  step(pin.reason);

  if (has("size")) {
    step("browser client size (esbuild, minify, gzip -9)");
    for (const r of await measureSizes()) {
      results.push(r);
      result(`${r.system}: ${r.error ? `error: ${r.error}` : `${r.gzip} B min+gzip (${r.terserGzip} B + terser)`}`);
    }
  }

  // First of the timed scenarios: in the full run of 2026-12-07 it came after the fan-out phases
  // (up to 10,000 connections per system) and both servers spent 9.6–11 µs per delivery there,
  // against 5.4–7.4 in a run of its own minutes later; at this operating point that decides
  // whether raw ws holds its schedule. Nothing else depends on the order.
  if (has("unix")) {
    results.push(
      ...(await runLatencyUnix(opts.systems, {
        n: opts.rateN,
        rate: opts.rate,
        durationMs: opts.durationMs,
        latencyDurationMs: opts.latencyDurationMs,
        latencyRounds: opts.latencyRounds,
        warmupMs: opts.warmupMs,
        pin,
      })),
    );
  }

  const rateWanted = has("latency") || has("cpu");
  if (has("fanout") || rateWanted) {
    for (const system of opts.systems) {
      results.push(
        ...(await runLoad(system, {
          levels: has("fanout") ? opts.levels : [],
          sizes: opts.sizes,
          fanout: has("fanout"),
          rateN: rateWanted ? opts.rateN : undefined,
          rate: opts.rate,
          durationMs: opts.durationMs,
          latencyDurationMs: opts.latencyDurationMs,
          latencyRounds: opts.latencyRounds,
          warmupMs: opts.warmupMs,
          maxSubscribers: opts.maxSubscribers,
          maxStep: opts.maxStep,
          clientMode: opts.clientMode,
          cpuRates: has("cpu") ? opts.cpuRates : [],
          pin,
        })),
      );
    }
  }

  if (has("memory")) {
    for (const system of opts.systems) results.push(...(await runMemory(system, { levels: opts.memoryLevels, clientMode: opts.clientMode, pin })));
  }

  if (has("scale")) {
    for (const system of opts.systems.filter((s) => SCALE_SYSTEMS.includes(s.id))) {
      results.push(...(await runScale(system, { levels: opts.scaleLevels, processes: opts.scaleProcesses })));
    }
  }

  if (has("ttfm")) {
    const { networks, unavailable } = await resolveNetworks(opts.networks);
    for (const u of unavailable) result(`network ${u}: skipped`);
    meta.networksUnavailable = unavailable;
    const servers = [...new Set(opts.systems.filter((s) => s.ttfm).map((s) => s.ttfm.lib))];
    results.push(...(await runTtfm({ servers, networks, trials: opts.trials, hostileTrials: opts.hostileTrials, timeoutMs: opts.timeoutMs, pin })));
  }

  if (has("cluster")) {
    const { rows, redis } = await runCluster(opts.cluster.systems, {
      ...opts.cluster,
      rate: opts.rate.rate,
      size: opts.rate.size,
      // Latency rows: as long, as warmed up and as many rounds as the one-node latency row.
      durationMs: opts.latencyDurationMs,
      rounds: opts.latencyRounds,
      warmupMs: opts.warmupMs,
      pin,
    });
    results.push(...rows);
    meta.redis = redis;
  }

  meta.seconds = Math.round((Date.now() - started) / 1000);
  const doc = { meta, results };
  const md = renderTables(doc);
  await mkdir(opts.out, { recursive: true });
  const base = resolve(opts.out, opts.name);
  await writeFile(`${base}.json`, `${JSON.stringify(doc, null, 2)}\n`);
  await writeFile(`${base}.md`, `${md}\n`);
  await writeFile(`${base}.svg`, renderSvg(doc));
  process.stdout.write(`\n${md}\n\n`);
  step(`done in ${meta.seconds} s: ${base}.json, ${base}.md, ${base}.svg`);
}

// Run only as a program: tests import parseOptions without starting a benchmark.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main()
    .catch((err) => {
      process.stderr.write(`bench: ${err?.stack ?? err}\n`);
      process.exitCode = 1;
    })
    .finally(killAll);
}
