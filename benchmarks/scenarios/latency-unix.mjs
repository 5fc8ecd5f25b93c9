/**
 * WebSocket latency where neither side of the 2-core machine is saturated (issue #15, item 2).
 *
 * Over TCP on loopback a socket write also runs the receiving side's kernel work, so raw `ws` at
 * N = 1,000 and 100 msg/s needs its whole core and falls behind its schedule; and one Node load
 * client needs about 10 µs of its core per delivery, so the load client's own queue becomes the
 * tail. Here the same fixed-rate row runs over a Unix socket (no TCP stack in the write) with the
 * native load client (native/ws-load.c, a fraction of the Node client's cost), so both servers
 * hold the schedule and the p99 compares the servers. Each row reports its own busiest-client CPU
 * and published-of-offered, so a row where that did not hold says so.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Fleet } from "../lib/fleet.mjs";
import { nativeWsLoad } from "../lib/native.mjs";
import { result, step } from "../lib/progress.mjs";
import { rate } from "./load.mjs";

/** Systems the native client speaks to (its kinds `ws-raw` and `ws-throughline`). */
export const UNIX_SYSTEM_IDS = Object.freeze(["throughline-ws", "raw-ws"]);

/**
 * @param {object[]} systems entries of SYSTEMS (those not in UNIX_SYSTEM_IDS are skipped)
 * @param {{ n: number, rate: {rate:number,size:number}, durationMs: number, latencyDurationMs: number,
 *   latencyRounds: number, warmupMs: number, pin?: import("../lib/pin.mjs").Pinning }} opts
 * @returns {Promise<object[]>} `rate-unix` rows (or one `error` row when the client cannot be built)
 */
export async function runLatencyUnix(systems, opts) {
  const chosen = systems.filter((s) => UNIX_SYSTEM_IDS.includes(s.id));
  if (chosen.length === 0) return [];
  step(`WebSocket latency over a Unix socket, native load client: ${chosen.map((s) => s.id).join(", ")}, N=${opts.n}, ${opts.rate.rate} msg/s`);
  let executable;
  try {
    executable = nativeWsLoad();
  } catch (err) {
    result(String(err.message));
    return [{ scenario: "error", system: "latency-unix", stage: "build", message: String(err.message) }];
  }
  const dir = mkdtempSync(join(tmpdir(), "tl-bench-"));
  const rows = [];
  // The server script listens on this path and the native client dials it.
  const env = { BENCH_UNIX_SOCKET: join(dir, "server.sock") };
  try {
    for (const system of chosen) {
      const fleet = new Fleet(system, { pin: opts.pin, clientExecutable: executable, env });
      try {
        await fleet.start();
        const g = await fleet.grow(opts.n);
        if (g.failed > 0) result(`${system.id}: ${g.failed} of ${opts.n} subscribers failed to connect${g.error ? ` (${g.error})` : ""}`);
        await rate(fleet, opts.n, opts, rows, "rate-unix", " (Unix socket, native client)");
      } catch (err) {
        const message = String(err instanceof Error ? err.message : err);
        result(`${system.id}: latency over a Unix socket FAILED: ${message}`);
        rows.push({ scenario: "error", system: system.id, stage: "latency-unix", message });
      } finally {
        await fleet.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
