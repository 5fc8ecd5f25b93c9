/**
 * Throughline's server from its built dist, default options, all three transports on one hub
 * (the client picks SSE, WebSocket or long-poll). Attached to our own node:http server, the way
 * an application mounts it, so the connection count is the TCP sockets that server holds.
 *
 * Usage: `node servers/throughline.mjs [REDIS_URL [KEY_PREFIX]]`: with a Redis URL, one node of a
 * cluster on the Redis backplane (`@throughline/redis`); a publish then resolves once the message
 * is in the shared history and every node (this one too) delivers it from its ingest.
 */
import { createServer as createHttpServer } from "node:http";
import { createServer } from "@throughline/server";
import { closeHttp, listenLoopback, serve } from "./common.mjs";

/** The one topic every benchmark subscriber listens to. */
export const TOPIC = "bench";

serve(async () => {
  // Every load client connects from 127.0.0.1, so the per-address and total connection caps
  // (production safety defaults: 100 and 10 000) would cap the benchmark, not measure it.
  const [redisUrl, keyPrefix = "bench:"] = process.argv.slice(2);
  const backplane = redisUrl ? (await import("@throughline/redis")).redisBackplane({ url: redisUrl, keyPrefix }) : undefined;
  // BENCH_THROUGHLINE_OPTIONS: JSON server options on top (diagnostics, e.g. {"heartbeatMs":1000}).
  const extra = JSON.parse(process.env.BENCH_THROUGHLINE_OPTIONS || "{}");
  const rt = createServer({ maxConnections: 1_000_000, maxConnectionsPerAddress: 1_000_000, backplane, ...extra });
  await rt.ready;
  let publishErrors = 0;
  const http = createHttpServer((_req, res) => res.writeHead(404).end());
  let sockets = 0;
  http.on("connection", (socket) => {
    sockets++;
    socket.once("close", () => sockets--);
  });
  rt.attach(http);
  const port = await listenLoopback(http);
  const path = rt.path ?? "/realtime";
  return {
    port,
    http,
    url: `http://127.0.0.1:${port}${path}`,
    publish(payload) {
      if (!backplane) rt.publish(TOPIC, payload);
      // A failed append is not delivered anywhere: counted, and the subscribers' loss shows it.
      else rt.publishAsync(TOPIC, payload).catch(() => publishErrors++);
    },
    connections: () => sockets,
    async close() {
      await rt.close();
      await closeHttp(http);
      await backplane?.close();
      if (publishErrors) process.stderr.write(`${publishErrors} publishes failed on the backplane\n`);
    },
  };
});
