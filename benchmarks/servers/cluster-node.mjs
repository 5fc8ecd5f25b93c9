// One node for benchmarks/cluster.mjs: a Throughline server (on Redis when given a URL, else the
// memory default) with `POST /publish?n=` publishing a stamped message (the publisher's clock:
// performance.timeOrigin + now, comparable across processes on one machine).
import { createServer as createHttp } from "node:http";
import { createServer } from "@throughline/server";
import { redisBackplane } from "@throughline/redis";

const [redisUrl, port] = process.argv.slice(2);
const backplane = redisUrl && redisUrl !== "-" ? redisBackplane({ url: redisUrl, keyPrefix: "cluster-bench:" }) : undefined;
// Benchmark clients all come from 127.0.0.1: lift the per-address cap (default 100).
const rt = createServer({ path: "/rt", backplane, heartbeatMs: 5_000, maxConnections: 1_000_000, maxConnectionsPerAddress: 1_000_000 });
const http = createHttp((req, res) => {
  if (!req.url.startsWith("/publish")) return;
  const data = { t: performance.timeOrigin + performance.now(), pad: "x".repeat(40) };
  const done = () => res.writeHead(204).end();
  if (backplane) rt.publishAsync("bench", data).then(done, () => res.writeHead(503).end());
  else (rt.publish("bench", data), done());
});
rt.attach(http);
await rt.ready;
http.listen(Number(port), "127.0.0.1", () => process.stdout.write("ready\n"));
process.on("SIGTERM", () => rt.close().then(() => backplane?.close()).finally(() => process.exit(0)));
