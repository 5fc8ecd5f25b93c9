/**
 * The SSE limit: a bare node:http writer. Headers, then `data: <json>\n\n` per message, the
 * event string built once per publish and written to every response. No ids, no heartbeats.
 */
import { createServer } from "node:http";
import { closeHttp, listenLoopback, serve } from "./common.mjs";

serve(async () => {
  const subscribers = new Set();
  const http = createServer((req, res) => {
    if (!req.url.startsWith("/sse")) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(":ok\n\n");
    subscribers.add(res);
    res.on("close", () => subscribers.delete(res));
  });
  const port = await listenLoopback(http);
  return {
    port,
    url: `http://127.0.0.1:${port}/sse`,
    publish(payload) {
      const chunk = `data: ${JSON.stringify(payload)}\n\n`;
      for (const res of subscribers) res.write(chunk);
    },
    connections: () => subscribers.size,
    close: () => closeHttp(http),
  };
});
