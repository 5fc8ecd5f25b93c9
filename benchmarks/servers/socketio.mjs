/**
 * Socket.IO 4 with both of its transports enabled (the client picks websocket or polling), as
 * its docs show: `io.emit("m", data)` broadcasts (the packet is encoded once per broadcast).
 * No compression, no served client, default ping settings.
 *
 * Usage: `node servers/socketio.mjs [REDIS_URL]`: with a Redis URL, one node of a cluster on
 * `@socket.io/redis-adapter` (ioredis pub/sub clients, as its documentation shows): `io.emit`
 * reaches this node's sockets at once and the other nodes' through Redis.
 */
import { createServer } from "node:http";
import { Server } from "socket.io";
import { closeHttp, listenLoopback, serve } from "./common.mjs";

serve(async () => {
  const http = createServer();
  const io = new Server(http, {
    serveClient: false,
    transports: ["polling", "websocket"],
    perMessageDeflate: false,
    httpCompression: false,
    cors: { origin: "*" },
  });
  const [redisUrl] = process.argv.slice(2);
  let redis = [];
  if (redisUrl) {
    const [{ createAdapter }, { Redis }] = await Promise.all([import("@socket.io/redis-adapter"), import("ioredis")]);
    const pub = new Redis(redisUrl);
    const sub = pub.duplicate();
    redis = [pub, sub];
    io.adapter(createAdapter(pub, sub));
  }
  const port = await listenLoopback(http);
  return {
    port,
    http,
    url: `http://127.0.0.1:${port}`,
    publish(payload) {
      io.emit("m", payload);
    },
    connections: () => io.engine.clientsCount,
    async close() {
      io.disconnectSockets(true);
      await new Promise((r) => io.close(() => r()));
      await closeHttp(http).catch(() => {});
      for (const c of redis) c.disconnect();
    },
  };
});
