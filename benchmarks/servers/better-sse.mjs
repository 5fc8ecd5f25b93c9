/**
 * better-sse, used as its README shows: a session per request, registered on one channel,
 * `channel.broadcast(data, "message")` per publish (it serializes per session).
 */
import { createServer } from "node:http";
import { createChannel, createSession } from "better-sse";
import { closeHttp, listenLoopback, serve } from "./common.mjs";

serve(async () => {
  const channel = createChannel();
  const http = createServer(async (req, res) => {
    if (!req.url.startsWith("/sse")) return res.writeHead(404).end();
    try {
      const session = await createSession(req, res);
      channel.register(session);
    } catch {
      res.destroy();
    }
  });
  const port = await listenLoopback(http);
  return {
    port,
    url: `http://127.0.0.1:${port}/sse`,
    publish(payload) {
      channel.broadcast(payload, "message");
    },
    connections: () => channel.sessionCount,
    close: () => closeHttp(http),
  };
});
