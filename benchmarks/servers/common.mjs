/**
 * The part every server under test shares: it starts the system on 127.0.0.1:0, prints
 * `{"type":"listening","port":…}` and then obeys JSON commands on stdin:
 *
 * - `{cmd:"run", mode:"credit", size, window, durationMs}`: publish as fast as the subscribers
 *   keep up. The runner forwards `{cmd:"credit", seq}` (the newest seq that *every* subscriber
 *   has received); at most `window` messages are published beyond it, so no system is measured
 *   while it buffers gigabytes it cannot deliver.
 * - `{cmd:"run", mode:"rate", size, rate, durationMs}`: publish `rate` messages/s (latency, CPU,
 *   time to first message), each payload's `t` the time it was due (see `publishOne`). With `fanout: true`, `done` also lists `[seq, ms]`: per message, the
 *   time from its publish to a microtask queued right after it (its socket writes issued). With `window` (high-rate CPU rows) the rate is also held to at most
 *   `window` messages beyond the credit, so a rate the subscribers cannot take is published as
 *   fast as they take it instead of piling up in the server's buffers.
 * - `{cmd:"stop"}` ends a run early; every run answers `{type:"done", first, last}`.
 * - `{cmd:"published", windows:[[from, to], …]}` (a run started with `log: true`): for each window of
 *   CLOCK_MONOTONIC ms, the sequence numbers published in it, `{type:"published", ranges:[[first,
 *   last] | null, …]}` (time to first message: what was published during a negotiation).
 * - `{cmd:"stats", gc}`: connections, memory (after a full GC when `gc`), CPU time and the longest
 *   event-loop delay since the previous stats (`loopMaxMs`).
 * - `{cmd:"exit"}`.
 *
 * Sequence numbers grow across runs, so a subscriber's "last seq received" stays meaningful.
 *
 * A server that exposes its node:http server (`http`) also reports when a client's first request
 * reaches it: the first HTTP request or WebSocket upgrade whose query carries a new trial tag
 * (`bt=…`, set by clients/ttfm.mjs) emits `{type:"first-request", tag, t}`. Untagged requests
 * (every load client) cost one string search and emit nothing.
 */
import { rmSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { emit, onCommands } from "../lib/proc.mjs";
import { makePayload, nowMs } from "../lib/payload.mjs";

/**
 * @typedef {object} SystemServer
 * @property {number} port
 * @property {string} [url]
 * @property {(payload: object) => void} publish sends one payload to every subscriber
 * @property {() => number} connections subscribers currently connected
 * @property {() => Promise<void>} close
 * @property {import("node:http").Server} [http] observed for tagged first requests
 */

/** The query parameter clients/ttfm.mjs tags every request of one trial with. */
export const TRIAL_TAG = "bt";

/** Emits `{type:"first-request", tag, t}` once per trial tag seen on `http` (requests and upgrades). */
function watchFirstRequests(http) {
  const seen = new Set();
  const look = (req) => {
    const url = req.url ?? "";
    if (!url.includes(`${TRIAL_TAG}=`)) return;
    const t = nowMs();
    const tag = new URL(url, "http://x").searchParams.get(TRIAL_TAG);
    if (!tag || seen.has(tag)) return;
    seen.add(tag);
    emit({ type: "first-request", tag, t });
  };
  // Prepended, so the time is taken before the system under test handles the request.
  http.prependListener("request", look);
  http.prependListener("upgrade", look);
}

/**
 * Publish times by sequence number, for `published` windows: index i holds the time of seq
 * `base + i`. Only kept for runs started with `log: true` (500 msg/s × 30 min ≈ 7 MB at most).
 */
const publishLog = { base: 0, times: [] };

/** First and last seq published in [from, to) (ms), or null; times are increasing. */
function seqsIn(from, to) {
  const ts = publishLog.times;
  const lower = (x) => {
    let lo = 0;
    let hi = ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ts[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const a = lower(from);
  const b = lower(to) - 1;
  return b >= a ? [publishLog.base + a, publishLog.base + b] : null;
}

/** Socket writes allowed in one turn of the event loop before the publisher yields to I/O. */
const WRITES_PER_TURN = Number(process.env.BENCH_WPT ?? 20_000);

/** @param {() => Promise<SystemServer>} start */
export async function serve(start) {
  process.on("uncaughtException", (err) => {
    emit({ type: "error", message: `uncaught: ${err?.stack ?? err}` });
  });
  const sys = await start();
  // The longest the event loop was held between two `stats` (a publish waits that long at worst).
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  if (sys.http) watchFirstRequests(sys.http);
  let seq = 0;
  let run = null;

  const finish = () => {
    if (!run) return;
    const r = run;
    run = null;
    clearTimeout(r.endTimer);
    clearInterval(r.interval);
    emit({ type: "done", first: r.first, last: seq, ms: nowMs() - r.started, ...(r.fanout ? { fanout: r.fanout } : {}) });
  };

  /**
   * Publishes the next message of the run. In a fixed-rate run the payload's time is when the
   * message was due (run start + its index / rate), not when the publisher got to it: a server
   * whose busy event loop holds its own publisher back is charged for that wait (what wrk2 calls
   * coordinated omission; stamped late, a stalled server's messages would hide it). Credit runs,
   * and gated rate runs (held to what the subscribers take by design), have no schedule to keep.
   */
  const publishOne = (size) => {
    seq++;
    const r = run;
    const now = nowMs();
    const scheduled = r.mode === "rate" && !r.gated;
    const payload = makePayload(seq, size, scheduled ? r.started + ((seq - r.first + 1) * 1000) / r.rate : now);
    if (r.log) publishLog.times.push(now);
    sys.publish(payload);
    if (r.fanout) {
      // A microtask queued after publish runs after any the system queued during it (Throughline
      // writes its batch in one): the time from publish to the last socket write issued.
      const s = seq;
      queueMicrotask(() => r.fanout.push([s, nowMs() - now]));
    }
  };

  const pump = () => {
    const r = run;
    if (!r || r.mode !== "credit") return;
    r.scheduled = false;
    const perTurn = Math.max(1, Math.floor(WRITES_PER_TURN / Math.max(1, sys.connections())));
    let n = 0;
    while (seq - r.credit < r.window && n < perTurn) {
      publishOne(r.size);
      n++;
    }
    // Blocked on credit: the next credit command calls pump again.
    if (seq - r.credit < r.window) schedule();
  };
  const schedule = () => {
    if (run && !run.scheduled) {
      run.scheduled = true;
      setImmediate(pump);
    }
  };

  if (process.env.BENCH_DEBUG) {
    const { appendFileSync } = await import("node:fs");
    setInterval(() => run && appendFileSync(process.env.BENCH_DEBUG, `${nowMs().toFixed(0)} seq=${seq} credit=${run.credit} sched=${run.scheduled}\n`), 50).unref();
  }
  onCommands(async (cmd) => {
    switch (cmd.cmd) {
      case "run": {
        if (run) finish();
        const first = seq + 1;
        run = { mode: cmd.mode, size: cmd.size, rate: cmd.rate, first, started: nowMs(), credit: Math.max(seq, cmd.credit ?? 0), window: cmd.window ?? 64, gated: cmd.mode === "rate" && cmd.window !== undefined, scheduled: false, log: cmd.log === true, fanout: cmd.fanout === true ? [] : undefined };
        if (run.log) {
          publishLog.base = first;
          publishLog.times = [];
        }
        run.endTimer = setTimeout(finish, cmd.durationMs);
        emit({ type: "started", first });
        if (cmd.mode === "credit") {
          run.credit = seq; // Everything before this run counts as delivered (or lost for good).
          schedule();
        } else {
          const r = run;
          r.interval = setInterval(() => {
            const due = Math.floor(((nowMs() - r.started) * cmd.rate) / 1000);
            // Never burst more than 100 ms worth after a stall: the rate is the point.
            let n = Math.min(due - (seq - r.first + 1), Math.max(1, cmd.rate / 10));
            // Gated (high rates): also at most WRITES_PER_TURN socket writes per tick, as the
            // credit pump, so the timer that ends the run is never starved by one huge burst.
            if (r.gated) n = Math.min(n, r.credit + r.window - seq, Math.max(1, Math.floor(WRITES_PER_TURN / Math.max(1, sys.connections()))));
            while (n-- > 0) publishOne(r.size);
          }, 2);
        }
        break;
      }
      case "credit":
        if (run && (run.mode === "credit" || run.gated) && cmd.seq > run.credit) {
          run.credit = cmd.seq;
          if (run.mode === "credit") schedule();
        }
        break;
      case "stop":
        finish();
        break;
      case "published":
        emit({ type: "published", ranges: (cmd.windows ?? []).map(([from, to]) => seqsIn(from, to)) });
        break;
      case "stats": {
        if (cmd.gc && globalThis.gc) {
          // Several passes with turns in between so finalizers and weak refs settle.
          for (let i = 0; i < 3; i++) {
            globalThis.gc();
            await new Promise((r) => setImmediate(r));
          }
        }
        const m = process.memoryUsage();
        const c = process.cpuUsage();
        queueMicrotask(() => loop.reset());
        emit({
          type: "stats",
          conns: sys.connections(),
          rss: m.rss,
          heapUsed: m.heapUsed,
          heapTotal: m.heapTotal,
          external: m.external,
          arrayBuffers: m.arrayBuffers,
          cpuUs: c.user + c.system,
          loopMaxMs: loop.max / 1e6,
          t: nowMs(),
          seq,
        });
        break;
      }
      case "exit":
        finish();
        await Promise.race([sys.close().catch(() => {}), new Promise((r) => setTimeout(r, 2_000))]);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown command ${cmd.cmd}`);
    }
  });

  emit({ type: "listening", port: sys.port, url: sys.url ?? `http://127.0.0.1:${sys.port}` });
}

/** `listen(0, "127.0.0.1")` on a node:http server, resolving with the port (or a Unix socket, see below). */
export function listenLoopback(server) {
  const unixPath = process.env.BENCH_UNIX_SOCKET;
  if (unixPath) rmSync(unixPath, { force: true });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    // A deep accept queue: load clients open thousands of connections at once.
    // BENCH_UNIX_SOCKET (scenarios/latency-unix.mjs): that Unix socket instead, reported as port 0
    // (the clients dial the path; the URL keeps giving the request path).
    if (unixPath) server.listen({ path: unixPath, backlog: 4096 }, () => resolve(0));
    else server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, () => resolve(server.address().port));
  });
}

/** Closes a node:http server and every connection it still holds. */
export function closeHttp(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}
