/**
 * Throughline demo: live notifications.
 *
 * One node:http server serves the page, its script and the client's browser bundle, and the
 * Throughline routes (under /realtime) on the same origin. Every 2 s it publishes a notification
 * on topic "notifications"; when a page sends a reply, it is published as event "reply" so every
 * open page sees it.
 *
 *   npm start                      # builds, then serves on http://127.0.0.1:3000/
 *   PORT=0 node examples/notifications/server.mjs      # any free port (tests)
 *   HOST=0.0.0.0 PORT=8080 node …                      # reachable from other machines
 *   REDIS_URL=redis://127.0.0.1:6379 node …            # one node of several (examples/cluster)
 */
import { readFile } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { fileURLToPath } from "node:url";
import { createServer } from "@throughline/server";
import { doctorPage } from "@throughline/doctor/page";
import { registerMetrics } from "@throughline/server/metrics";
import { Registry } from "prom-client";
import { redisBackplane } from "@throughline/redis";

const PORT = process.env.PORT === undefined || process.env.PORT === "" ? 3000 : Number(process.env.PORT);
if (!Number.isInteger(PORT) || PORT < 0 || PORT > 65535) {
  console.error(`Throughline demo: PORT must be an integer 0–65535 (0 = any free port), got ${JSON.stringify(process.env.PORT)}.`);
  process.exit(1);
}
// Loopback by default: a demo should not be reachable from the network unless asked to.
const HOST = process.env.HOST || "127.0.0.1";
const INTERVAL_MS = Number(process.env.INTERVAL_MS) || 2_000;
const TOPIC = "notifications";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const bundleDir = fileURLToPath(new URL("../../packages/client/dist/browser/", import.meta.url));

/** Path → file and content type. Nothing else is served: no directory traversal to worry about. */
const STATIC = new Map([
  ["/", [here("./index.html"), "text/html; charset=utf-8"]],
  ["/index.html", [here("./index.html"), "text/html; charset=utf-8"]],
  ["/app.js", [here("./app.js"), "text/javascript; charset=utf-8"]],
  ["/throughline.js", [bundleDir + "throughline.iife.js", "text/javascript; charset=utf-8"]],
  ["/throughline.iife.js.map", [bundleDir + "throughline.iife.js.map", "application/json"]],
]);

const SAMPLES = [
  { event: "info", title: "Deploy finished", body: "api@4f2c1e is live in eu-west-1 (42 s)." },
  { event: "info", title: "New comment", body: "Ana replied to “Q3 roadmap”: “Looks good — ship it!”" },
  { event: "warning", title: "Disk almost full", body: "db-2: /var/lib/postgres is 91 % full." },
  { event: "info", title: "Backup completed", body: "Nightly snapshot: 12.4 GB in 3 min 10 s." },
  { event: "warning", title: "Payment failed", body: "Invoice #1042 (€129.00): card declined, retrying tomorrow." },
  { event: "info", title: "New sign-in", body: "Firefox on Linux, Lisbon, Portugal." },
  { event: "warning", title: "Slow responses", body: "p95 latency of /search is 1.8 s (usual: 240 ms)." },
];

// The doctor page at /realtime/doctor checks the network from the visitor's browser; the
// operators' view is rt.stats() and Prometheus metrics at /metrics (prom-client).
// With REDIS_URL this process is one node of several: every node delivers every node's messages.
const backplane = process.env.REDIS_URL ? redisBackplane({ url: process.env.REDIS_URL }) : undefined;
const rt = createServer({ doctorPage: doctorPage(), backplane });
const metrics = new Registry();
registerMetrics(rt, { register: metrics });
/** publishAsync works with and without a backplane; a refusal (Redis away) is logged, not lost silently. */
const publish = (topic, data, options) =>
  rt.publishAsync(topic, data, options).catch((err) => console.error(`publish refused: ${err.code ?? err.message}`));
const path = rt.path ?? "/realtime";

const http = createHttpServer(async (req, res) => {
  const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
  // The Throughline routes are answered by the hub attached below.
  if (pathname === path || pathname.startsWith(`${path}/`)) return;
  if (pathname === "/metrics" && req.method === "GET") {
    res.writeHead(200, { "content-type": metrics.contentType, "cache-control": "no-store" });
    res.end(await metrics.metrics());
    return;
  }
  const entry = req.method === "GET" || req.method === "HEAD" ? STATIC.get(pathname) : undefined;
  if (!entry) {
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("Not found\n");
    return;
  }
  try {
    const body = await readFile(entry[0]);
    res.writeHead(200, {
      "content-type": entry[1],
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      // Everything comes from this origin: no CDN, no third-party scripts.
      "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  } catch {
    res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
    res.end(`Missing ${pathname}: run \`npm run build\` first.\n`);
  }
});
rt.attach(http);

let n = 0;
const timer = setInterval(() => {
  const sample = SAMPLES[n++ % SAMPLES.length];
  const level = sample.event;
  void publish(TOPIC, { title: sample.title, body: sample.body, level, time: new Date().toISOString() }, { event: sample.event });
}, INTERVAL_MS);

rt.on("message", (data) => {
  // Client data is untrusted: keep a short string only.
  const raw = data && typeof data === "object" && typeof data.text === "string" ? data.text : JSON.stringify(data) ?? "";
  const body = String(raw).slice(0, 200);
  void publish(TOPIC, { title: "Reply", body, level: "reply", time: new Date().toISOString() }, { event: "reply" });
});

http.on("error", (err) => {
  console.error(`Throughline demo: cannot listen on ${HOST}:${PORT}: ${err.message}`);
  process.exit(1);
});
await rt.ready;
http.listen(PORT, HOST, () => {
  const { port } = http.address();
  const shown = HOST === "0.0.0.0" || HOST === "::" ? "127.0.0.1" : HOST.includes(":") ? `[${HOST}]` : HOST;
  console.log(`Throughline demo on http://${shown}:${port}/`);
});

let closing = false;
async function shutdown(signal) {
  if (closing) process.exit(1); // a second Ctrl-C means "now"
  closing = true;
  clearInterval(timer);
  // Never hang on shutdown, whatever a client does.
  setTimeout(() => process.exit(1), 5_000).unref();
  try {
    // Clients get a 1001 close and would reconnect to another instance.
    await rt.close();
    await backplane?.close();
  } finally {
    http.close();
    http.closeAllConnections();
  }
  console.log(`closed (${signal})`);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
