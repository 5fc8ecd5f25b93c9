/**
 * The part every server under test shares: it starts the system on 127.0.0.1:0, prints
 * `{"type":"listening","port":…}` and then obeys JSON commands on stdin:
 *
 * - `{cmd:"run", mode:"credit", size, window, durationMs}`: publish as fast as the subscribers
 *   keep up. The runner forwards `{cmd:"credit", seq}` (the newest seq that *every* subscriber
 *   has received); at most `window` messages are published beyond it, so no system is measured
 *   while it buffers gigabytes it cannot deliver.
 * - `{cmd:"run", mode:"rate", size, rate, durationMs}`: publish `rate` messages/s (latency, CPU,
 *   time to first message).
 * - `{cmd:"stop"}` ends a run early; every run answers `{type:"done", first, last}`.
 * - `{cmd:"stats", gc}`: connections, memory (after a full GC when `gc`) and CPU time.
 * - `{cmd:"exit"}`.
 *
 * Sequence numbers grow across runs, so a subscriber's "last seq received" stays meaningful.
 */
import { emit, onCommands } from "../lib/proc.mjs";
import { makePayload, nowMs } from "../lib/payload.mjs";

/**
 * @typedef {object} SystemServer
 * @property {number} port
 * @property {string} [url]
 * @property {(payload: object) => void} publish sends one payload to every subscriber
 * @property {() => number} connections subscribers currently connected
 * @property {() => Promise<void>} close
 */

/** Socket writes allowed in one turn of the event loop before the publisher yields to I/O. */
const WRITES_PER_TURN = Number(process.env.BENCH_WPT ?? 20_000);

/** @param {() => Promise<SystemServer>} start */
export async function serve(start) {
  process.on("uncaughtException", (err) => {
    emit({ type: "error", message: `uncaught: ${err?.stack ?? err}` });
  });
  const sys = await start();
  let seq = 0;
  let run = null;

  const finish = () => {
    if (!run) return;
    const r = run;
    run = null;
    clearTimeout(r.endTimer);
    clearInterval(r.interval);
    emit({ type: "done", first: r.first, last: seq, ms: nowMs() - r.started });
  };

  const publishOne = (size) => {
    seq++;
    sys.publish(makePayload(seq, size));
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
        run = { mode: cmd.mode, size: cmd.size, first, started: nowMs(), credit: Math.max(seq, cmd.credit ?? 0), window: cmd.window ?? 64, scheduled: false };
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
            while (n-- > 0) publishOne(r.size);
          }, 2);
        }
        break;
      }
      case "credit":
        if (run && run.mode === "credit" && cmd.seq > run.credit) {
          run.credit = cmd.seq;
          schedule();
        }
        break;
      case "stop":
        finish();
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
        emit({
          type: "stats",
          conns: sys.connections(),
          rss: m.rss,
          heapUsed: m.heapUsed,
          heapTotal: m.heapTotal,
          external: m.external,
          arrayBuffers: m.arrayBuffers,
          cpuUs: c.user + c.system,
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

/** `listen(0, "127.0.0.1")` on a node:http server, resolving with the port. */
export function listenLoopback(server) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    // A deep accept queue: load clients open thousands of connections at once.
    server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, () => resolve(server.address().port));
  });
}

/** Closes a node:http server and every connection it still holds. */
export function closeHttp(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}
