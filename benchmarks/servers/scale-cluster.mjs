/**
 * One system's server as a node:cluster of K processes sharing one port, for scale levels above
 * what one process may hold (its open-file hard limit). The primary starts K workers, each the
 * system's own server file (servers/<server>.mjs, same protocol), and speaks the same JSON lines
 * to the runner: `listening` once every worker listens (node:cluster gives workers that listen on
 * port 0 one shared port), `stats` summed over the workers plus the primary's own memory, `exit`
 * to all. Publishing commands are not relayed: scale only holds idle connections.
 *
 * Usage: node servers/scale-cluster.mjs <server> <K>
 */
import cluster from "node:cluster";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { emit, onCommands } from "../lib/proc.mjs";

/** How long a worker may take to answer one command. */
const WORKER_ANSWER_MS = 30_000;

const [server, k] = process.argv.slice(2);
const count = Math.max(1, Number(k) || 1);

cluster.setupPrimary({
  exec: fileURLToPath(new URL(`./${server}.mjs`, import.meta.url)),
  // Pipes for stdin/stdout/stderr: each worker speaks the JSON-lines protocol to this process.
  silent: true,
  execArgv: process.execArgv,
  // Workers would otherwise get this process's own arguments (server name, count), which a
  // server reads as its own (throughline.mjs: a Redis URL for the backplane).
  args: [],
});

/** A worker and the JSON messages it sent that nobody has taken yet. */
function start() {
  const w = { worker: cluster.fork(), messages: [], waiters: [] };
  createInterface({ input: w.worker.process.stdout }).on("line", (line) => {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    const i = w.waiters.findIndex((x) => x.pred(msg));
    if (i === -1) w.messages.push(msg);
    else w.waiters.splice(i, 1)[0].resolve(msg);
  });
  w.worker.process.stderr.resume();
  w.worker.on("exit", () => {
    for (const x of w.waiters.splice(0)) x.reject(new Error("a cluster worker exited"));
  });
  return w;
}

function wait(w, type) {
  const i = w.messages.findIndex((m) => m.type === type || m.type === "error");
  const answer = i === -1 ? undefined : w.messages.splice(i, 1)[0];
  const p = answer
    ? Promise.resolve(answer)
    : new Promise((resolve, reject) => {
        const x = { pred: (m) => m.type === type || m.type === "error", resolve, reject };
        w.waiters.push(x);
        setTimeout(() => {
          const j = w.waiters.indexOf(x);
          if (j !== -1) w.waiters.splice(j, 1);
          reject(new Error(`a cluster worker sent no "${type}" within ${WORKER_ANSWER_MS} ms`));
        }, WORKER_ANSWER_MS).unref();
      });
  return p.then((m) => {
    if (m.type === "error") throw new Error(m.message);
    return m;
  });
}

const workers = Array.from({ length: count }, start);
try {
  const listening = await Promise.all(workers.map((w) => wait(w, "listening")));
  if (new Set(listening.map((m) => m.port)).size !== 1) throw new Error(`cluster workers listen on different ports: ${listening.map((m) => m.port).join(", ")}`);
  onCommands(async (cmd) => {
    switch (cmd.cmd) {
      case "stats": {
        const all = await Promise.all(
          workers.map((w) => {
            w.worker.process.stdin.write(`${JSON.stringify(cmd)}\n`);
            return wait(w, "stats");
          }),
        );
        if (cmd.gc && globalThis.gc) globalThis.gc();
        const own = process.memoryUsage();
        const sum = (key) => all.reduce((n, s) => n + s[key], 0);
        emit({
          type: "stats",
          conns: sum("conns"),
          rss: sum("rss") + own.rss,
          heapUsed: sum("heapUsed") + own.heapUsed,
          heapTotal: sum("heapTotal") + own.heapTotal,
          external: sum("external") + own.external,
          arrayBuffers: sum("arrayBuffers") + own.arrayBuffers,
          cpuUs: sum("cpuUs"),
          workers: all.map((s) => ({ conns: s.conns, rss: s.rss })),
          seq: 0,
        });
        break;
      }
      case "exit":
        for (const w of workers) w.worker.process.stdin.write(`${JSON.stringify(cmd)}\n`);
        setTimeout(() => {
          for (const w of workers) w.worker.process.kill("SIGKILL");
          process.exit(0);
        }, 3_000).unref();
        await Promise.all(workers.map((w) => new Promise((r) => (w.worker.isDead() ? r() : w.worker.once("exit", r)))));
        process.exit(0);
        break;
      default:
        throw new Error(`the scale cluster only answers stats and exit (got ${cmd.cmd})`);
    }
  });
  emit({ ...listening[0], workers: count });
} catch (err) {
  emit({ type: "error", message: err instanceof Error ? err.message : String(err) });
  for (const w of workers) w.worker.process.kill("SIGKILL");
  process.exit(1);
}
