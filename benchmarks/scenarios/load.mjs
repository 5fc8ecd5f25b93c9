/**
 * Fan-out throughput, latency and CPU per delivered message for one system, on one server and
 * one growing set of subscribers (100 → 1 000 → … → as many as the machine holds), so each
 * system pays for connecting its subscribers once.
 *
 * - Fan-out: one publisher publishes as fast as every subscriber keeps up (credit window, see
 *   servers/common.mjs); after a warm-up, messages/s delivered to all = deliveries / N / time.
 *   Server CPU time over the same window gives CPU per delivery at full load.
 * - Rate (latency + CPU): `rate` messages/s of `size` bytes for the duration; publish→receive
 *   p50 / p99 / max over every delivery, server CPU µs per delivered message, and losses.
 */
import { Fleet } from "../lib/fleet.mjs";
import { rateRounds, rateRun, roundsFields, roundsNote, sumOf } from "../lib/rate-run.mjs";
import { result, sleep, status, step } from "../lib/progress.mjs";
import { HIGH_RATE_FAMILIES, runCpuRate } from "./cpu-rate.mjs";

/** Bytes each subscriber may have in flight during fan-out, and the cap over all of them. */
export const WINDOW_BYTES_PER_SUBSCRIBER = 1024 * 1024;
export const WINDOW_BYTES_TOTAL = 128 * 1024 * 1024;

/** Messages the publisher may be ahead of the slowest subscriber. */
export function windowFor(n, size) {
  const bytes = Math.min(WINDOW_BYTES_PER_SUBSCRIBER, WINDOW_BYTES_TOTAL / Math.max(1, n));
  return Math.max(4, Math.min(1_000, Math.floor(bytes / size)));
}

async function fanout(fleet, n, size, opts, out) {
  const label = `${fleet.system.id} fan-out N=${n} ${size} B`;
  status(label);
  await fleet.track(false);
  const warmMs = opts.warmupMs;
  const durMs = opts.durationMs;
  const window = windowFor(n, size);
  fleet.lastCredit = 0;
  await fleet.server.request({ cmd: "run", mode: "credit", size, window, durationMs: warmMs + durMs + 5_000 }, "started");
  await sleep(warmMs);
  const s0 = await fleet.stats();
  const d0 = fleet.delivered();
  const c0 = fleet.clientCpu();
  const t0 = performance.now();
  for (let waited = 0; waited < durMs; waited += 250) {
    await sleep(Math.min(250, durMs - waited));
    status(`${label}: ${fleet.delivered() - d0} deliveries`);
  }
  const s1 = await fleet.stats();
  const d1 = fleet.delivered();
  const c1 = fleet.clientCpu();
  const t1 = performance.now();
  fleet.server.send({ cmd: "stop" });
  const done = await fleet.server.wait((m) => m.type === "done", 10_000, "done");
  await fleet.drain(done.last, 3_000);
  const reports = await fleet.report();
  const open = reports.reduce((a, r) => a + r.open, 0);
  const deliveries = d1 - d0;
  const secs = (t1 - t0) / 1000;
  const row = {
    scenario: "fanout",
    system: fleet.system.id,
    n,
    open,
    size,
    window,
    msgsPerSec: deliveries / Math.max(1, open) / secs,
    deliveriesPerSec: deliveries / secs,
    mbPerSec: (deliveries * size) / secs / 1e6,
    cpuUsPerDelivery: deliveries ? (s1.cpuUs - s0.cpuUs) / deliveries : NaN,
    serverCpuPct: ((s1.cpuUs - s0.cpuUs) / 1e6 / secs) * 100,
    // The busiest load client's CPU share: near 100 means the client, not the server, was the limit.
    clientCpuPct: Math.max(...c1.map((c, i) => ((c - (c0[i] ?? 0)) / 1e6 / secs) * 100)),
    // The longest the server's event loop was held in the window: explains a row where nothing
    // reached every subscriber (a stall, not a slow rate).
    loopMaxMs: s1.loopMaxMs,
  };
  out.push(row);
  result(`${label}: ${fmt(row.msgsPerSec)} msg/s to all (${fmt(row.deliveriesPerSec)} deliveries/s, ${row.cpuUsPerDelivery.toFixed(2)} µs CPU/delivery, server CPU ${row.serverCpuPct.toFixed(0)}%, busiest client ${row.clientCpuPct.toFixed(0)}%, ${open} open, server loop held ≤ ${fmt(row.loopMaxMs)} ms)`);
}

/**
 * The fixed-rate latency row of `fleet` at `n` subscribers, pushed onto `out`. `scenario` names
 * the row (`rate`; `rate-unix` for scenarios/latency-unix.mjs), `labelNote` goes into its log line.
 */
export async function rate(fleet, n, opts, out, scenario = "rate", labelNote = "") {
  const { rate: r, size } = opts.rate;
  const label = `${fleet.system.id} latency N=${n} ${r} msg/s ${size} B${labelNote}`;
  status(label);
  // Warm-up at the same rate, not measured, for every system alike: the first messages after
  // connecting run cold code (JIT) and would otherwise be the p99 of a short run.
  if (opts.warmupMs > 0) await rateRun([fleet], { size, rate: r, durationMs: opts.warmupMs, drainMs: 3_000 });
  // Longer than a fan-out run: at 100 msg/s a 2 s run's p99 would be its second-worst message.
  // Several rounds, the median reported: one round's p99 moves with the machine's noise.
  const durationMs = opts.latencyDurationMs ?? opts.durationMs;
  const runs = await rateRounds([fleet], { size, rate: r, durationMs, drainMs: 3_000 }, opts.latencyRounds ?? 1);
  const fields = roundsFields(runs);
  const row = {
    scenario,
    system: fleet.system.id,
    n,
    size,
    rate: r,
    // What the schedule asked for: a server that held back its own publisher published fewer.
    offered: Math.round((r * durationMs * runs.length) / 1000),
    ...fields,
    // The load clients near their CPU limit queue deliveries: their share is part of the latency.
    clientUsPerDelivery: fields.delivered ? sumOf(runs, "clientCpuUs") / fields.delivered : NaN,
    clientCpuPct: Math.max(...runs.map((x) => x.clientCpuPct)),
    loopMaxMs: Math.max(...runs.map((x) => x.loopMaxMs)),
  };
  out.push(row);
  result(`${label}: p50 ${row.p50.toFixed(2)} ms, p99 ${row.p99.toFixed(2)} ms${roundsNote(row)}, max ${row.max.toFixed(1)} ms, ${row.cpuUsPerDelivery.toFixed(2)} µs CPU/delivery, clients ${row.clientUsPerDelivery.toFixed(2)} µs/delivery (busiest ${row.clientCpuPct.toFixed(0)}%), server loop held ≤ ${row.loopMaxMs.toFixed(1)} ms${row.lost ? `, ${row.lost} LOST` : ""}`);
}

export function fmt(x) {
  if (!Number.isFinite(x)) return "–";
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

/**
 * @param {object} system
 * @param {{ levels: (number|"max")[], sizes: number[], fanout: boolean, rateN?: number,
 *   rate: {rate:number,size:number}, durationMs: number, latencyDurationMs?: number (the latency
 *   row's, default durationMs), latencyRounds?: number (rounds of it, median reported; default 1), warmupMs: number, maxSubscribers: number,
 *   maxStep: number, clientMode: string, cpuRates?: number[], pin?: object }} opts `cpuRates`:
 *   high fixed rates for the server-CPU rows at `rateN` (scenarios/cpu-rate.mjs); `pin`: lib/pin.mjs
 * @returns {Promise<object[]>} rows
 */
export async function runLoad(system, opts) {
  const out = [];
  const fleet = new Fleet(system, { clientMode: opts.clientMode, pin: opts.pin });
  step(`${system.label}: load (subscribers ${opts.levels.join(", ")})`);
  try {
    await fleet.start();
    const numeric = opts.levels.filter((l) => l !== "max").sort((a, b) => a - b);
    const plan = [...new Set([...numeric, ...(opts.rateN ? [opts.rateN] : [])])].sort((a, b) => a - b);
    for (const n of plan) {
      const g = await fleet.grow(n, (s) => status(`${system.id}: ${s}`));
      if (g.failed > 0) result(`${system.id}: ${g.failed} of ${n} subscribers failed to connect${g.error ? ` (${g.error})` : ""}`);
      if (opts.fanout && numeric.includes(n)) for (const size of opts.sizes) await fanout(fleet, n, size, opts, out);
      if (n === opts.rateN) await rate(fleet, n, opts, out);
      if (n === opts.rateN && HIGH_RATE_FAMILIES.includes(system.family)) {
        for (const r of opts.cpuRates ?? []) out.push(await runCpuRate(fleet, n, r, { size: opts.rate.size, durationMs: opts.durationMs }));
      }
    }
    if (opts.fanout && opts.levels.includes("max")) {
      // "As many as the machine holds": keep adding until connecting fails or the cap.
      let n = Math.max(0, ...plan);
      while (n < opts.maxSubscribers) {
        const target = Math.min(opts.maxSubscribers, n + opts.maxStep);
        const g = await fleet.grow(target, (s) => status(`${system.id}: max: ${s}`));
        n = target;
        if (fleet.open < target * 0.99) {
          result(`${system.id}: stopped growing at ${fleet.open} open (${g.failed} failed${g.error ? `: ${g.error}` : ""})`);
          break;
        }
      }
      const held = fleet.open;
      for (const size of opts.sizes) await fanout(fleet, held, size, opts, out);
      for (const row of out) if (row.scenario === "fanout" && row.n === held) row.max = true;
    }
  } catch (err) {
    result(`${system.id}: load FAILED: ${err instanceof Error ? err.message : err}`);
    out.push({ scenario: "error", system: system.id, stage: "load", message: String(err instanceof Error ? err.message : err) });
  } finally {
    await fleet.stop();
  }
  return out;
}
