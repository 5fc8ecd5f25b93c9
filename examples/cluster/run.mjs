/**
 * Throughline on several nodes: Redis, three notification-demo nodes (examples/notifications with
 * REDIS_URL) and nginx with plain round-robin in front, no sticky sessions. Every few seconds one
 * node is killed (SIGKILL) and restarted; open the printed URL and watch the page keep every
 * notification, in order, whichever node its requests land on.
 *
 *   npm run example:cluster                       # builds, then runs until Ctrl-C
 *   REDIS_URL=redis://host:6379 npm run example:cluster   # use a running Redis instead
 *   KILL_EVERY_MS=0 …                              # no kills
 *   node examples/cluster/run.mjs --seconds 30     # stops everything by itself after 30 s
 *
 * Needs nginx (/usr/sbin/nginx or on PATH) and, without REDIS_URL, redis-server on PATH.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { freePort, startNginx } from "@throughline/testkit";
import { startRedisServer } from "@throughline/testkit/redis";

const NODE_SCRIPT = fileURLToPath(new URL("../notifications/server.mjs", import.meta.url));
const KILL_EVERY_MS = process.env.KILL_EVERY_MS === undefined ? 8_000 : Number(process.env.KILL_EVERY_MS);
const NODES = 3;
// `--seconds N`: run N seconds, then stop everything as Ctrl-C would (used by the example's test).
const secondsAt = process.argv.indexOf("--seconds");
const SECONDS = secondsAt >= 0 ? Number(process.argv[secondsAt + 1]) : undefined;
if (SECONDS !== undefined && !(SECONDS > 0)) {
  console.error("usage: node examples/cluster/run.mjs [--seconds N]   (N > 0; default: until Ctrl-C)");
  process.exit(64);
}

const redis = process.env.REDIS_URL ? undefined : await startRedisServer({ persistence: "aof" });
const redisUrl = process.env.REDIS_URL ?? redis.url;
const nodes = [];
for (let i = 0; i < NODES; i++) nodes.push({ name: `node${i + 1}`, port: await freePort(), child: undefined });

function start(node) {
  // Each node publishes every 6 s: with three of them, a notification every ~2 s.
  const child = spawn(process.execPath, [NODE_SCRIPT], { env: { ...process.env, PORT: String(node.port), REDIS_URL: redisUrl, INTERVAL_MS: "6000" }, stdio: ["ignore", "pipe", "inherit"] });
  node.child = child;
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => String(d).includes("Throughline demo on") && (console.log(`${node.name} up (pid ${child.pid})`), resolve()));
    child.once("exit", (code, signal) => reject(new Error(`${node.name} exited (${code ?? signal})`)));
  }).catch((err) => console.error(err.message));
}

await Promise.all(nodes.map(start));
const targets = nodes.map((n) => `http://127.0.0.1:${n.port}`);
// max_fails=0 as the README recommends: a killed node is never marked down for fail_timeout.
const proxy = await startNginx({ target: targets[0], moreTargets: targets.slice(1), config: "tuned", serverParams: "max_fails=0" });
console.log(`Redis ${redisUrl}${redis ? ` (pid ${redis.pid})` : ""}; nodes on ${nodes.map((n) => n.port).join(", ")}; nginx pid ${proxy.pid}`);
console.log(`Throughline cluster demo on ${proxy.url}/ (nginx round-robin over ${NODES} nodes)`);

let turn = 0;
const chaos =
  KILL_EVERY_MS > 0
    ? setInterval(async () => {
        const node = nodes[turn++ % NODES];
        console.log(`killing ${node.name} (SIGKILL), restarting it`);
        const exited = once(node.child, "exit");
        node.child.kill("SIGKILL");
        await exited;
        if (!closing) await start(node);
      }, KILL_EVERY_MS)
    : undefined;

let closing = false;
async function shutdown() {
  if (closing) process.exit(1);
  closing = true;
  clearInterval(chaos);
  setTimeout(() => process.exit(1), 10_000).unref();
  await proxy.close();
  await Promise.all(nodes.map(async (n) => {
    if (n.child.exitCode === null && n.child.signalCode === null) {
      const exited = once(n.child, "exit");
      n.child.kill("SIGTERM");
      await exited;
    }
  }));
  await redis?.close();
  console.log("stopped");
  process.exit(0);
}
if (SECONDS !== undefined) setTimeout(shutdown, SECONDS * 1_000);
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
