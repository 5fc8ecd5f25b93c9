/**
 * A loopback proxy whose treatment of SSE responses can be changed while connections are open:
 * `pass`, `delay` (every SSE chunk `delayMs` late, order kept), `block-sse` (new SSE requests get
 * the proxy's own 403 page). Everything else (long-poll, sends, WebSocket tunnels) passes. The
 * testkit proxies are fixed per instance; switching tests need a network that changes.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export type ToggleMode = "pass" | "delay" | "block-sse";

export interface ToggleProxy {
  readonly url: string;
  mode: ToggleMode;
  delayMs: number;
  close(): Promise<void>;
}

export async function startToggleProxy(targetPort: number): Promise<ToggleProxy> {
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const state: { mode: ToggleMode; delayMs: number } = { mode: "pass", delayMs: 0 };

  const relay = (req: IncomingMessage, res: ServerResponse) => {
    const sse = (req.url ?? "").includes("/sse");
    if (sse && state.mode === "block-sse") {
      res.writeHead(403, { "content-type": "text/html" }).end("<h1>Forbidden by policy</h1>");
      return;
    }
    const up = request({ host: "127.0.0.1", port: targetPort, path: req.url, method: req.method, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      let lastAt = 0;
      ur.on("data", (chunk: Buffer) => {
        if (!sse || state.mode !== "delay") return void res.write(chunk);
        // Order is kept: a chunk never overtakes the one before.
        const at = Math.max(lastAt, Date.now() + state.delayMs);
        lastAt = at;
        const t = setTimeout(() => {
          timers.delete(t);
          if (!res.destroyed) res.write(chunk);
        }, at - Date.now());
        timers.add(t);
      });
      ur.on("end", () => res.end());
      ur.on("error", () => res.destroy());
    });
    up.on("error", () => res.destroy());
    res.on("close", () => up.destroy());
    req.pipe(up);
  };

  const server = createServer(relay);
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const up = connect(targetPort, "127.0.0.1", () => {
      let raw = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) raw += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      up.write(`${raw}\r\n`);
      if (head.length > 0) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    sockets.add(up);
    up.on("close", () => (sockets.delete(up), socket.destroy()));
    up.on("error", () => socket.destroy());
    socket.on("error", () => up.destroy());
    socket.on("close", () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    get mode() {
      return state.mode;
    },
    set mode(m: ToggleMode) {
      state.mode = m;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms: number) {
      state.delayMs = ms;
    },
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      })),
  };
}
