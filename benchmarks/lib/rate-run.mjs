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
 * @param {{ size: number, rate: number, durationMs: number, drainMs: number, window?: number }} opts
 *   `window`: hold the rate to that many messages beyond the slowest subscriber (servers/common.mjs)
 */
export async function rateRun(fleets, { size, rate, durationMs, drainMs, window }) {
  const [first] = fleets;
  for (const f of fleets) {
    await f.track(true);
    f.lastCredit = 0;
  }
  const s0 = await Promise.all(fleets.map((f) => f.stats()));
  await first.server.request({ cmd: "run", mode: "rate", size, rate, window, durationMs }, "started");
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
  };
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
