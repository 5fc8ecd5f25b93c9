/**
 * Server CPU per delivery at high fixed rates (issue #15, 1 and 3): `rate` messages/s (1 000 and
 * 5 000 by default) of `size` bytes to the N subscribers already connected by scenarios/load.mjs.
 * These are the rates where a server can batch what is queued for a connection; the figure is
 * compared with the raw baseline of the same protocol (report/summary.mjs).
 *
 * The rate is held to a credit window (servers/common.mjs, 100 ms of the offered rate): when the subscribers cannot take the
 * offered rate, the server publishes as fast as they take it instead of buffering without bound,
 * and the row says what was achieved. Server CPU is counted from the start of the run until every
 * subscriber has everything (or a bounded drain ends), so writes flushed late are counted too.
 */
import { rateFields, rateRun } from "../lib/rate-run.mjs";
import { result, status } from "../lib/progress.mjs";
import { windowFor } from "./load.mjs";

/** Bound on waiting for the subscribers to catch up after a high-rate run. */
export const DRAIN_MS = 5_000;

/** The credit window of a high-rate run, in seconds of the offered rate (≥ 16 messages). */
export const WINDOW_SECONDS = 0.1;

/** Messages the publisher may be ahead of the slowest subscriber at `rate` (never more than fan-out's). */
export function rateWindow(n, size, rate) {
  return Math.min(windowFor(n, size), Math.max(16, Math.ceil(rate * WINDOW_SECONDS)));
}

/** Systems whose protocol has a raw baseline (WebSocket, SSE): long-poll has none. */
export const HIGH_RATE_FAMILIES = Object.freeze(["sse", "ws"]);

/**
 * One high-rate row on a fleet that holds `n` subscribers.
 * @param {import("../lib/fleet.mjs").Fleet} fleet
 * @param {number} n
 * @param {number} rate offered messages/s
 * @param {{ size: number, durationMs: number }} opts
 * @returns {Promise<object>} the `cpu-rate` row
 */
export async function runCpuRate(fleet, n, rate, opts) {
  const { size, durationMs } = opts;
  const label = `${fleet.system.id} CPU N=${n} ${rate} msg/s ${size} B`;
  status(label);
  const window = rateWindow(n, size, rate);
  const run = await rateRun([fleet], { size, rate, window, durationMs, drainMs: DRAIN_MS });
  const row = {
    scenario: "cpu-rate",
    system: fleet.system.id,
    n,
    size,
    rate,
    window,
    achieved: run.achieved,
    ...rateFields(run),
    serverCpuPct: (run.cpuUs / 1e6 / run.seconds) * 100,
    // The busiest load client's CPU share: near 100 means the clients set the achieved rate.
    clientCpuPct: run.clientCpuPct,
  };
  result(
    `${label}: ${row.cpuUsPerDelivery.toFixed(2)} µs CPU/delivery, ${row.achieved.toFixed(0)} msg/s achieved, server CPU ${row.serverCpuPct.toFixed(0)}%, busiest client ${row.clientCpuPct.toFixed(0)}%${row.lost ? `, ${row.lost} not delivered${row.drained ? "" : " (drain bound hit)"}` : ""}`,
  );
  return row;
}
