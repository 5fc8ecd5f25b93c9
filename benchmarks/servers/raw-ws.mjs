/**
 * The WebSocket limit: `ws` with no protocol on top. One JSON text per message, serialized and
 * turned into bytes once per publish, then sent to every open socket. No compression.
 */
import { createServer } from "node:http";
import { WebSocketServer, WebSocket } from "ws";
import { closeHttp, listenLoopback, serve } from "./common.mjs";

serve(async () => {
  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, clientTracking: true });
  wss.on("connection", (ws) => ws.on("error", () => {}));
  const port = await listenLoopback(http);
  return {
    port,
    url: `ws://127.0.0.1:${port}/`,
    publish(payload) {
      const bytes = Buffer.from(JSON.stringify(payload));
      for (const ws of wss.clients) if (ws.readyState === WebSocket.OPEN) ws.send(bytes, { binary: false });
    },
    connections: () => wss.clients.size,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await closeHttp(http);
    },
  };
});
