/**
 * One fixed-rate run over one or more fleets (one per node of a cluster): every subscriber tracks
 * latency, the first fleet's server publishes `rate` messages/s for `durationMs`, then every
 * subscriber gets a bounded time to catch up. Returns what the latency, high-rate CPU and
 * multi-node rows are made of: deliveries, losses, the latency summary over every delivery and
 * the servers' CPU over the whole run (drain included).
 */
import { Histogram } from "./hist.mjs";

/**
 * @param {import("./fleet.mjs").Fleet[]} fleets
 * @param {{ size: number, rate: number, durationMs: number, drainMs: number, window?: number, detail?: boolean }} opts
 *   `window`: hold the rate to that many messages beyond the slowest subscriber (servers/common.mjs);
 *   `detail`: also per message: the server's fan-out time and the subscribers' latency spread
 */
export async function rateRun(fleets, { size, rate, durationMs, drainMs, window, detail = false }) {
  const [first] = fleets;
  for (const f of fleets) {
    await f.track(true, detail);
    f.lastCredit = 0;
  }
  const s0 = await Promise.all(fleets.map((f) => f.stats()));
  await first.server.request({ cmd: "run", mode: "rate", size, rate, window, durationMs, fanout: detail }, "started");
  const done = await first.server.wait((m) => m.type === "done", durationMs + 15_000, "done");
  const end = Date.now() + drainMs;
  let drained = true;
  for (const f of fleets) drained = (await f.drain(done.last, Math.max(0, end - Date.now()))) && drained;
  const s1 = await Promise.all(fleets.map((f) => f.stats()));
  const reports = (await Promise.all(fleets.map((f) => f.report()))).flat();
  const hist = new Histogram();
  for (const rep of reports) hist.merge(rep.hist);
  const open = reports.reduce((a, rep) => a + rep.open, 0);
  const delivered = reports.reduce((a, rep) => a + rep.delivered, 0);
  const published = done.last - done.first + 1;
  return {
    open,
    published,
    delivered,
    lost: Math.max(0, published * open - delivered),
    drained,
    // Below `rate` when the publisher could not keep its timer or was held by the window.
    achieved: published / (done.ms / 1000),
    latency: hist.summary(),
    /** CPU µs of every server process (user + system) from before the run to after the drain. */
    cpuUs: s1.reduce((a, s, i) => a + s.cpuUs - s0[i].cpuUs, 0),
    seconds: (s1[0].t - s0[0].t) / 1000,
    /** The busiest load client's CPU share over the run (%). */
    clientCpuPct: Math.max(0, ...reports.map((rep) => rep.cpuPct ?? 0)),
    /** The longest any server's event loop was held during the run (ms). */
    loopMaxMs: Math.max(...s1.map((s) => s.loopMaxMs ?? NaN)),
    /** CPU µs of every load client (from `track` to the report). */
    clientCpuUs: reports.reduce((a, rep) => a + (rep.cpuUs ?? 0), 0),
    ...(detail ? { detail: seqDetail(done.fanout ?? [], reports) } : {}),
  };
}

/**
 * Per published seq: `[seq, fanoutMs, deliveries, minMs, maxMs, meanMs]`: the server's time from
 * publish to its last socket write issued, then publish→receive over every subscriber.
 */
function seqDetail(fanout, reports) {
  const bySeq = new Map();
  for (const rep of reports) {
    for (const [s, [n, min, max, sum]] of rep.seqs ?? []) {
      const e = bySeq.get(s);
      if (e === undefined) bySeq.set(s, [n, min, max, sum]);
      else bySeq.set(s, [e[0] + n, Math.min(e[1], min), Math.max(e[2], max), e[3] + sum]);
    }
  }
  return fanout.map(([s, f]) => {
    const e = bySeq.get(s) ?? [0, NaN, NaN, NaN];
    return [s, f, e[0], e[1], e[2], e[3] / e[0]];
  });
}

/**
 * The fields every fixed-rate row shares: counts, latency (ms) and server CPU µs per delivery
 * (the CPU of the whole run — publishing, writing, heartbeats — over what was delivered).
 */
export function rateFields(run) {
  const { open, published, delivered, lost, drained, latency } = run;
  return {
    open,
    published,
    delivered,
    lost,
    drained,
    p50: latency.p50,
    p99: latency.p99,
    max: latency.max,
    mean: latency.mean,
    cpuUsPerDelivery: delivered ? run.cpuUs / delivered : NaN,
  };
}

/**
 * `rounds` fixed-rate runs one after the other on the same fleets (see `rateRun`). One run's p99
 * on a noisy 2-core machine moves by tens of percent from run to run (a GC or another process in
 * the window); the rows report the median round, with every round listed.
 * @returns {Promise<object[]>} the runs, in order
 */
export async function rateRounds(fleets, opts, rounds = 1) {
  const runs = [];
  for (let i = 0; i < rounds; i++) runs.push(await rateRun(fleets, opts));
  return runs;
}

/** The sum over `runs` of a field, or of `fn(run)`. */
export const sumOf = (runs, k) => runs.reduce((a, r) => a + (typeof k === "function" ? k(r) : r[k]), 0);

/** `" (median of 3 rounds: 44.9, 48.7, 49.6)"` for a row of several rounds, "" for one (progress lines). */
export const roundsNote = (row) => (row.rounds.length > 1 ? ` (median of ${row.rounds.length} rounds: ${row.rounds.map((x) => x.p99.toFixed(1)).join(", ")})` : "");

const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * The row fields of several rounds: counts and CPU summed over all of them; p50, p99 and mean the
 * median of the rounds' (one round: exactly `rateFields`); max the largest; `rounds`: each
 * round's p50, p99 and max (ms), so a table can show the spread behind the median.
 */
export function roundsFields(runs) {
  const f = runs.map(rateFields);
  const sum = (k) => sumOf(runs, k);
  const delivered = sum("delivered");
  return {
    open: Math.min(...f.map((x) => x.open)),
    published: sum("published"),
    delivered,
    lost: sum("lost"),
    drained: f.every((x) => x.drained),
    p50: median(f.map((x) => x.p50)),
    p99: median(f.map((x) => x.p99)),
    max: Math.max(...f.map((x) => x.max)),
    mean: median(f.map((x) => x.mean)),
    cpuUsPerDelivery: delivered ? sum("cpuUs") / delivered : NaN,
    rounds: f.map((x) => ({ p50: x.p50, p99: x.p99, max: x.max })),
  };
}
