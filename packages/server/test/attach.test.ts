import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { createServer } from "@throughline/server";
import { cleanup, hello, httpRequest, onCleanup, openSse, openWs, waitFor } from "./helpers.js";

afterEach(cleanup);

async function listen(http: Server): Promise<string> {
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  onCleanup(
    () =>
      new Promise<void>((r) => {
        http.close(() => r());
        http.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(http.address() as { port: number }).port}`;
}

describe("attach()", () => {
  it("keeps the server's own request handler for other paths", async () => {
    const http = createHttp((req, res) => {
      res.setHeader("content-type", "text/plain");
      res.end(`app: ${req.url}`);
    });
    const rt = createServer().attach(http);
    onCleanup(() => rt.close());
    const base = await listen(http);
    const other = await httpRequest(`${base}/hello?x=1`);
    expect(other.status).toBe(200);
    expect(other.body).toBe("app: /hello?x=1");
    expect(other.headers["x-throughline"]).toBeUndefined();
    const ours = await openSse(`${base}/realtime/sse`);
    expect(ours.status).toBe(200);
    await waitFor(() => ours.frames.length >= 1, "the hello");
  });

  it("keeps the server's own upgrade handler for other paths", async () => {
    const http = createHttp();
    const appWss = new WebSocketServer({ noServer: true });
    onCleanup(() => new Promise<void>((r) => appWss.close(() => r())));
    http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      appWss.handleUpgrade(req, socket, head, (ws) => ws.send("app socket"));
    });
    const rt = createServer().attach(http);
    onCleanup(() => rt.close());
    const base = await listen(http);
    const ours = await openWs(`${base}/realtime/ws`);
    await waitFor(() => ours.frames.length >= 1, "our hello");
    expect(hello(ours.frames).transport).toBe("websocket");
    const { WebSocket } = await import("ws");
    const app = new WebSocket(`${base.replace("http", "ws")}/app`);
    onCleanup(() => app.terminate());
    const first = await new Promise<string>((resolve, reject) => {
      app.once("message", (d) => resolve(String(d)));
      app.once("error", reject);
    });
    expect(first).toBe("app socket");
  });
});

describe("handle() as middleware", () => {
  it("handles requests under the path and calls next() for others, using originalUrl", async () => {
    const rt = createServer();
    onCleanup(() => rt.close());
    const nextCalls: string[] = [];
    // A minimal Connect-like app: mounted at /mount, it strips the prefix from req.url like Express.
    const http = createHttp((req: IncomingMessage & { originalUrl?: string }, res: ServerResponse) => {
      req.originalUrl = req.url;
      if (req.url?.startsWith("/mount")) req.url = req.url.slice("/mount".length) || "/";
      rt.handle(req, res, () => {
        nextCalls.push(req.originalUrl!);
        res.statusCode = 418;
        res.end("next");
      });
    });
    http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!rt.handleUpgrade(req, socket, head)) socket.destroy();
    });
    const base = await listen(http);
    const other = await httpRequest(`${base}/mount/elsewhere`);
    expect(other.status).toBe(418);
    expect(nextCalls).toEqual(["/mount/elsewhere"]);
    // Under the path (seen through originalUrl, even though req.url was rewritten):
    const missing = await httpRequest(`${base}/realtime/nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers["x-throughline"]).toBe("1");
    const sse = await openSse(`${base}/realtime/sse`);
    expect(sse.status).toBe(200);
    const ws = await openWs(`${base}/realtime/ws`);
    await waitFor(() => ws.frames.length >= 1, "the hello");
    expect(nextCalls).toEqual(["/mount/elsewhere"]);
  });

  it("returns false without next for requests outside the path, leaving the response untouched", async () => {
    const rt = createServer();
    onCleanup(() => rt.close());
    let result: boolean | undefined;
    const http = createHttp((req, res) => {
      result = rt.handle(req, res);
      if (!result) res.end("mine");
    });
    const base = await listen(http);
    const r = await httpRequest(`${base}/x`);
    expect(result).toBe(false);
    expect(r.body).toBe("mine");
  });

  it("handleUpgrade() returns false and leaves the socket alone outside the path", async () => {
    const rt = createServer();
    onCleanup(() => rt.close());
    const results: boolean[] = [];
    const http = createHttp();
    http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const r = rt.handleUpgrade(req, socket, head);
      results.push(r);
      if (!r) socket.end("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
    });
    const base = await listen(http);
    const { WebSocket } = await import("ws");
    const ws = new WebSocket(`${base.replace("http", "ws")}/other`);
    onCleanup(() => ws.terminate());
    const status = await new Promise<number | undefined>((resolve) => {
      ws.on("unexpected-response", (_q, res) => resolve(res.statusCode));
      ws.on("error", () => resolve(undefined));
    });
    expect(results).toEqual([false]);
    expect(status).toBe(400);
  });

  it("POST /send works behind a body parser that already consumed the body", async () => {
    const got: unknown[] = [];
    const rt = createServer({ onMessage: (d) => void got.push(d) });
    onCleanup(() => rt.close());
    const http = createHttp((req: IncomingMessage & { body?: unknown }, res: ServerResponse) => {
      // Like express.json(): read everything, parse, then hand over to the next middleware.
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        req.body = raw ? (JSON.parse(raw) as unknown) : {};
        rt.handle(req, res, () => res.end("next"));
      });
    });
    const base = await listen(http);
    const sse = await openSse(`${base}/realtime/sse`);
    await waitFor(() => sse.frames.length >= 1, "the hello");
    const session = hello(sse.frames).session;
    const ok = await httpRequest(`${base}/realtime/send?session=${session}`, { method: "POST", body: '{"type":"message","data":"parsed"}' });
    expect(ok.status).toBe(204);
    expect(got).toEqual(["parsed"]);
    const empty = await httpRequest(`${base}/realtime/send?session=${session}`, { method: "POST" });
    expect(empty.status).toBe(400);
    expect(JSON.parse(empty.body)).toMatchObject({ error: { code: "TL_BAD_MESSAGE" } });
  });
});
