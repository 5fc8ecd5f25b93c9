/**
 * Scale: how many idle connections a server holds, and what they cost in RSS. One server process
 * per system (Throughline's SSE and WebSocket measured on separate servers), its connections
 * opened by several load-client processes at once. Every process runs with its open-file limit
 * raised, and each load process connects from its own loopback source address (127.1.x.y; all of
 * 127/8 is loopback on Linux), since one source/destination address pair has only ~28k ephemeral
 * ports (32768–60999). Addresses are never reused within a run: a closed connection's TIME_WAIT
 * would keep its port from the next bind.
 *
 * A process cannot hold more connections than its open-file hard limit allows, and raising that
 * needs CAP_SYS_RESOURCE (a container often lacks it): levels above the limit run on a
 * node:cluster of as many server processes as they need (servers/scale-cluster.mjs, one shared
 * port, RSS summed over every process), and the rows say how many processes held them.
 *
 * Per level (ascending, same server): connections held, server RSS after a full GC, RSS per
 * connection (growth over the empty server / connections held) and connections per GB at that
 * cost. A level not reached (fewer than `HELD_FRACTION` of it open, or its time bound passed)
 * ends the system's run: the last level reached is the most it held here.
 */
import { execFileSync } from "node:child_process";
import { Fleet } from "../lib/fleet.mjs";
import { result, sleep, status, step } from "../lib/progress.mjs";

/** The systems with an idle-connection story to compare (one transport each). */
export const SCALE_SYSTEMS = Object.freeze(["throughline-sse", "throughline-ws", "raw-sse", "raw-ws", "socketio-ws"]);

/** Open-file limit asked for every process of the scenario (as far as the hard limit allows). */
export const SCALE_NOFILE = 250_000;

/** A level counts as held when at least this share of its connections is open. */
export const HELD_FRACTION = 0.99;

/** Time for connections to settle (handshake buffers freed, a heartbeat or two) before measuring. */
export const SCALE_SETTLE_MS = 3_000;

/** File descriptors a server process keeps for itself beyond its connections (stdio, listener, libraries). */
export const FD_MARGIN = 1_000;

/**
 * The open-file limit child processes can reach: the hard limit (raising it needs
 * CAP_SYS_RESOURCE, which a container often lacks). `Infinity` for "unlimited".
 */
export function fdHardLimit() {
  // A lower limit to pretend, so a smoke run exercises the cluster path at a tiny N.
  if (process.env.BENCH_SCALE_FD_LIMIT) return Number(process.env.BENCH_SCALE_FD_LIMIT);
  try {
    const v = execFileSync("sh", ["-c", "ulimit -Hn"], { encoding: "utf8", timeout: 5_000 }).trim();
    return v === "unlimited" ? Infinity : Number(v) || Infinity;
  } catch {
    return Infinity;
  }
}

/**
 * How the levels are run: those one process can hold (the fd limit less FD_MARGIN, rounded down
 * to a thousand) on one server process; the rest on a node:cluster of `processes` servers sharing
 * one port, each under the limit (servers/scale-cluster.mjs), memory summed.
 * @returns {Array<{ levels: number[], processes: number }>}
 */
export function planLevels(levels, hardLimit) {
  const most = Number.isFinite(hardLimit) ? Math.max(1_000, Math.floor((hardLimit - FD_MARGIN) / 1_000) * 1_000) : Infinity;
  const sorted = [...new Set(levels)].sort((a, b) => a - b);
  const single = sorted.filter((n) => n <= most);
  const multi = sorted.filter((n) => n > most);
  const plan = [];
  if (single.length) plan.push({ levels: single, processes: 1 });
  if (multi.length) plan.push({ levels: multi, processes: Math.ceil(multi.at(-1) / most) });
  return plan;
}

/** Bound on growing to one level: a fixed part plus per connection (a loaded 2-core machine). */
export const levelTimeoutMs = (n) => 60_000 + n * 6;

let nextAddress = 0;

/** A fresh loopback source address per load process: 127.1.0.2, 127.1.0.3, … (see the file comment). */
export function freshLoopbackAddress() {
  const k = nextAddress++;
  return `127.1.${Math.floor(k / 250)}.${(k % 250) + 2}`;
}

function bounded(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not done within ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * @param {object} system entry of SYSTEMS
 * @param {{ levels: number[], processes: number }} opts
 * @returns {Promise<object[]>} rows `{scenario:"scale", system, n, open, held, rss, rssPerConn, perGb, …}`
 */
export async function runScale(system, opts) {
  const hard = fdHardLimit();
  const out = [];
  for (const part of planLevels(opts.levels, hard)) {
    out.push(...(await runLevels(system, { ...part, loadProcesses: opts.processes, fdLimit: hard })));
    if (out.some((r) => r.scenario === "error" || (r.scenario === "scale" && !r.held))) break;
  }
  return out;
}

/** One server (or cluster of `processes`), its levels ascending. */
async function runLevels(system, { levels, processes: serverProcesses, loadProcesses, fdLimit }) {
  const out = [];
  // Each load process, too, stays under the fd limit (and its source address under ~28k ports).
  const processes = Math.max(loadProcesses, Number.isFinite(fdLimit) ? Math.ceil(levels.at(-1) / (fdLimit - FD_MARGIN)) : 1);
  const fleet = new Fleet(system, {
    perProcess: Math.ceil(levels.at(-1) / processes),
    nofile: SCALE_NOFILE,
    localAddress: freshLoopbackAddress,
    serverProcesses,
  });
  const servers = serverProcesses > 1 ? `, a cluster of ${serverProcesses} server processes (open-file limit ${fdLimit} per process)` : "";
  step(`${system.label}: idle connections held (${levels.join(", ")}; ${processes} load processes${servers})`);
  try {
    await fleet.start();
    await sleep(200);
    const base = await fleet.stats(true);
    for (const n of levels) {
      const started = Date.now();
      let g;
      try {
        g = await bounded(
          fleet.growSpread(n, processes, (s) => status(`${system.id}: ${s}`)),
          levelTimeoutMs(n),
          `${system.id} growing to ${n}`,
        );
      } catch (err) {
        g = { open: fleet.open, failed: n - fleet.open, error: err instanceof Error ? err.message : String(err) };
      }
      const connectSeconds = (Date.now() - started) / 1000;
      await sleep(SCALE_SETTLE_MS);
      const s = await fleet.stats(true);
      // What the clients still hold after the settle time, not what they once opened.
      const open = fleet.open;
      const held = open >= n * HELD_FRACTION;
      const rssPerConn = open > 0 ? (s.rss - base.rss) / open : NaN;
      const row = {
        scenario: "scale",
        system: system.id,
        n,
        open,
        serverConns: s.conns,
        held,
        failed: g.failed,
        error: g.error,
        processes,
        serverProcesses,
        // Connections each server process held (a cluster: how evenly the port spread them).
        perServer: s.workers?.map((w) => w.conns),
        fdLimit: Number.isFinite(fdLimit) ? fdLimit : undefined,
        connectSeconds,
        rss: s.rss,
        baseRss: base.rss,
        heapUsed: s.heapUsed,
        rssPerConn,
        heapPerConn: open > 0 ? (s.heapUsed - base.heapUsed) / open : NaN,
        // Connections one GB holds at this cost per connection (the server's own base excluded).
        perGb: rssPerConn > 0 ? 2 ** 30 / rssPerConn : NaN,
      };
      out.push(row);
      result(
        `${system.id} N=${n}: ${open} held${held ? "" : " (NOT held)"}, RSS ${(s.rss / 2 ** 20).toFixed(0)} MB, ${(rssPerConn / 1024).toFixed(1)} KB per connection, ${Math.round(row.perGb).toLocaleString("en-US")} per GB (${connectSeconds.toFixed(0)} s to connect)${g.error ? `; first error: ${g.error}` : ""}`,
      );
      if (!held) break;
    }
  } catch (err) {
    result(`${system.id}: scale FAILED: ${err instanceof Error ? err.message : err}`);
    out.push({ scenario: "error", system: system.id, stage: "scale", message: String(err instanceof Error ? err.message : err) });
  } finally {
    await fleet.stop();
  }
  return out;
}

/** The largest level every system measured held (`undefined` if none). */
export function largestCommonLevel(rows) {
  const scale = rows.filter((r) => r.scenario === "scale");
  const systems = [...new Set(scale.map((r) => r.system))];
  const levels = [...new Set(scale.map((r) => r.n))].sort((a, b) => b - a);
  return levels.find((n) => systems.every((s) => scale.some((r) => r.system === s && r.n === n && r.held)));
}
