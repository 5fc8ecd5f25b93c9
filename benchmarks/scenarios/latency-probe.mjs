/**
 * Where the fixed-rate latency goes (issue #15, item 2): the latency row of run.mjs for a few
 * systems, in rounds that interleave them (each round a fresh server and fleet), with per message
 * the server's fan-out time (publish → its last socket write issued) next to the subscribers'
 * receive times, and the CPU µs per delivery of both the server and the load clients.
 *
 *   node benchmarks/scenarios/latency-probe.mjs [--systems throughline-ws,raw-ws] [--n 1000]
 *        [--rate 100] [--seconds 5] [--rounds 3] [--size 64] [--pin auto|off] [--cpu-prof DIR] [--idle S]
 *
 * `--idle S`: first, with nothing published for S seconds, the longest the server's event loop was
 * held (Throughline: its heartbeat ticks; set BENCH_THROUGHLINE_OPTIONS='{"heartbeatMs":500}').
 * `--cpu-prof DIR`: V8 CPU profiles of the server and every load client, written there on exit.
 * Prints one line per run, then the worst messages (by their slowest subscriber) of that run.
 */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { Fleet } from "../lib/fleet.mjs";
import { decidePinning, pinProcess } from "../lib/pin.mjs";
import { sleep } from "../lib/progress.mjs";
import { rateRun } from "../lib/rate-run.mjs";
import { systemById } from "../systems.mjs";

const { values: args } = parseArgs({
  options: {
    systems: { type: "string", default: "throughline-ws,raw-ws" },
    n: { type: "string", default: "1000" },
    rate: { type: "string", default: "100" },
    seconds: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    size: { type: "string", default: "64" },
    pin: { type: "string", default: "auto" },
    worst: { type: "string", default: "3" },
    "cpu-prof": { type: "string" },
    idle: { type: "string", default: "0" },
  },
});

const n = Number(args.n);
const pin = decidePinning(args.pin === "off" ? "off" : "auto");
if (pin.enabled) pinProcess(pin, "clients", process.pid);
const profDir = args["cpu-prof"] ? resolve(args["cpu-prof"]) : undefined;
if (profDir) mkdirSync(profDir, { recursive: true });
/** Node flags writing a CPU profile into DIR/<role>/ at exit. */
const prof = (role) => (profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}/${role}`] : []);

/** Quantile of an unsorted array of numbers. */
function q(xs, p) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] : NaN;
}

const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "–");
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "–");

console.log(`${pin.reason}; N=${n}, ${args.rate} msg/s, ${args.size} B, ${args.seconds} s per run`);
for (let round = 1; round <= Number(args.rounds); round++) {
  for (const id of args.systems.split(",")) {
    const system = systemById(id.trim());
    if (!system) throw new Error(`unknown system ${id}`);
    const fleet = new Fleet(system, { pin, nodeArgs: { server: prof(`server-${system.id}`), clients: prof(`client-${system.id}`) } });
    try {
      await fleet.start();
      await fleet.grow(n);
      if (Number(args.idle) > 0) {
        await fleet.stats();
        await sleep(Number(args.idle) * 1000);
        console.log(`r${round} ${system.id.padEnd(15)} idle ${args.idle} s: event loop held at most ${f1((await fleet.stats()).loopMaxMs)} ms`);
      }
      const run = await rateRun([fleet], { size: Number(args.size), rate: Number(args.rate), durationMs: Number(args.seconds) * 1000, drainMs: 3_000, detail: true });
      const d = run.detail;
      const fan = d.map((r) => r[1]);
      const max = d.map((r) => r[4]);
      const min = d.map((r) => r[3]);
      // How long the slowest subscriber's receive came after the server's last write.
      const after = d.map((r) => r[4] - r[1]);
      const lat = run.latency;
      console.log(
        `r${round} ${system.id.padEnd(15)} p50 ${f2(lat.p50)} p99 ${f2(lat.p99)} max ${f1(lat.max)} ms | server ${f2(run.cpuUs / run.delivered)} µs/del, loop held ≤ ${f1(run.loopMaxMs)} ms` +
          ` | clients ${f2(run.clientCpuUs / run.delivered)} µs/del (${run.clientCpuPct.toFixed(0)}% busy)` +
          ` | fan-out p50 ${f2(q(fan, 0.5))} p99 ${f2(q(fan, 0.99))} max ${f2(Math.max(...fan))} ms | per msg: first receive p50 ${f2(q(min, 0.5))}, last receive p50 ${f2(q(max, 0.5))} p99 ${f2(q(max, 0.99))}, last receive after last write p50 ${f2(q(after, 0.5))} p99 ${f2(q(after, 0.99))} ms${run.delivered < run.published * run.open ? ` | LOST ${run.published * run.open - run.delivered}` : ""}`,
      );
      const worst = [...d].sort((a, b) => b[4] - a[4]).slice(0, Number(args.worst));
      for (const [s, f, k, mn, mx, mean] of worst) console.log(`     seq ${s - d[0][0] + 1}: fan-out ${f2(f)} ms, receive min ${f2(mn)} mean ${f2(mean)} max ${f2(mx)} ms (${k})`);
    } catch (err) {
      console.log(`r${round} ${system.id}: FAILED ${err instanceof Error ? err.message : err}`);
    } finally {
      await fleet.stop();
    }
  }
}
process.exit(0);
