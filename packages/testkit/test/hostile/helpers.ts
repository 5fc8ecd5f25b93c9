/**
 * Test fixtures for the hostile proxies: an upstream whose streams the test drives by hand (so
 * "nothing arrives before X" is about order, not time), a recording HTTP client, a `ws` echo
 * server, and a registry that closes everything in teardown.
 */
import { createServer, request, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocketServer, WebSocket } from "ws";
import { waitFor, within } from "../../src/wait.js";

/** Everything a test opens, closed in afterEach. */
export class Cleanup {
  private readonly fns: Array<() => Promise<void> | void> = [];
  add<T extends { close(): Promise<void> | void }>(thing: T): T {
    this.fns.push(() => thing.close());
    return thing;
  }
  async run(): Promise<void> {
    for (const fn of this.fns.splice(0).reverse()) await fn();
  }
}

export interface DrivenStream {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Bytes written so far. */
  readonly written: number;
  write(chunk: string | Buffer): void;
  end(): void;
  /** True once the proxy (or anyone) closed the upstream connection before `end()`. */
  readonly closedEarly: boolean;
}

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly httpVersion: string;
}

export interface Upstream {
  readonly url: string;
  readonly port: number;
  readonly seen: SeenRequest[];
  readonly streams: DrivenStream[];
  /** WebSocket connections accepted (the `ws` server echoes every message back). */
  readonly wsConnections: WebSocket[];
  close(): Promise<void>;
}

/**
 * Routes: `/stream?type=<content-type>[&accel=no]` opens a response the test drives (`streams`);
 * `/echo` answers the request body; `/marker` answers a small body with `x-throughline: 1`;
 * anything else 404. WebSocket upgrades on any path are accepted and echoed; `?greet=1` makes
 * the server send "hello" at once.
 */
export async function startUpstream(): Promise<Upstream> {
  const seen: SeenRequest[] = [];
  const streams: DrivenStream[] = [];
  const sockets = new Set<Socket>();
  const wsConnections: WebSocket[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, httpVersion: req.httpVersion });
    const url = new URL(req.url!, "http://x");
    if (url.pathname === "/stream") return driven(url, req.headers, res);
    if (url.pathname === "/echo") {
      const parts: Buffer[] = [];
      req.on("data", (c: Buffer) => parts.push(c));
      req.on("end", () => res.writeHead(200, { "content-type": "application/octet-stream", "x-throughline": "1" }).end(Buffer.concat(parts)));
      return;
    }
    if (url.pathname === "/marker") return void res.writeHead(200, { "content-type": "text/plain", "x-throughline": "1" }).end("from the app");
    res.writeHead(req.headers.upgrade ? 426 : 404, { "x-throughline": "1", "content-type": "text/plain" }).end("upstream says no");
  });
  const driven = (url: URL, headers: IncomingHttpHeaders, res: ServerResponse) => {
    const head: Record<string, string> = { "content-type": url.searchParams.get("type") ?? "text/event-stream", "cache-control": "no-cache", "x-throughline": "1" };
    if (url.searchParams.get("accel") === "no") head["x-accel-buffering"] = "no";
    res.writeHead(200, head);
    res.flushHeaders();
    let written = 0;
    let ended = false;
    let closedEarly = false;
    res.on("close", () => (closedEarly = !ended));
    streams.push({
      url: url.pathname + url.search,
      headers,
      get written() {
        return written;
      },
      get closedEarly() {
        return closedEarly;
      },
      write(chunk) {
        written += Buffer.byteLength(chunk);
        res.write(chunk);
      },
      end() {
        ended = true;
        res.end();
      },
    });
  };
  const wss = new WebSocketServer({ server });
  wss.on("connection", (ws, req) => {
    wsConnections.push(ws);
    seen.push({ method: "UPGRADE", url: req.url!, headers: req.headers, httpVersion: req.httpVersion });
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
    if (req.url?.includes("greet=1")) ws.send("hello");
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    streams,
    wsConnections,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Recorded {
  status?: number;
  headers?: IncomingHttpHeaders;
  /** Body bytes received so far. */
  body: Buffer;
  /** Order of what happened: "head", "data", "end", "aborted", "error:<code>". */
  readonly log: string[];
  ended: boolean;
  /** The response or request failed (reset, aborted, premature close). */
  failed: boolean;
  close(): void;
}

/** Sends a request through `url` and records what comes back, as it comes. */
export function record(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Recorded {
  const rec: Recorded = { body: Buffer.alloc(0), log: [], ended: false, failed: false, close: () => req.destroy() };
  const req = request(url, { method: init.method ?? "GET", headers: init.headers, agent: false }, (res) => {
    rec.status = res.statusCode;
    rec.headers = res.headers;
    rec.log.push("head");
    res.on("data", (c: Buffer) => {
      rec.body = Buffer.concat([rec.body, c]);
      rec.log.push("data");
    });
    res.on("end", () => {
      rec.ended = true;
      rec.log.push("end");
    });
    res.on("aborted", () => {
      rec.failed = true;
      rec.log.push("aborted");
    });
    res.on("error", (e: NodeJS.ErrnoException) => {
      rec.failed = true;
      rec.log.push(`error:${e.code ?? e.message}`);
    });
  });
  req.on("error", (e: NodeJS.ErrnoException) => {
    rec.failed = true;
    rec.log.push(`error:${e.code ?? e.message}`);
  });
  req.end(init.body);
  return rec;
}

/** Waits for the upstream to have its `n`-th driven stream (1-based). */
export async function nthStream(up: Upstream, n = 1): Promise<DrivenStream> {
  await waitFor(() => up.streams.length >= n, `upstream stream #${n}`);
  return up.streams[n - 1]!;
}

/** How long a test waits to see that something does NOT arrive (generous: a broken proxy on loopback delivers in a few ms). */
export const QUIET_MS = 300;

/** Opens a `ws` client; resolves with it and everything it saw. */
export function openWs(url: string): { ws: WebSocket; messages: string[]; log: string[]; closed: Promise<number> } {
  const ws = new WebSocket(url.replace(/^http/, "ws"));
  const messages: string[] = [];
  const log: string[] = [];
  ws.on("open", () => log.push("open"));
  ws.on("message", (d) => {
    messages.push(d.toString());
    log.push("message");
  });
  ws.on("unexpected-response", (_req, res) => {
    log.push(`unexpected-response:${res.statusCode}`);
    const parts: Buffer[] = [];
    res.on("data", (c: Buffer) => parts.push(c));
    res.on("end", () => log.push(`body:${Buffer.concat(parts).toString()}`));
    res.on("error", () => {});
    // ws leaves the request to us once we listen for this event.
    res.on("end", () => ws.terminate());
  });
  ws.on("error", (e: NodeJS.ErrnoException) => log.push(`error:${e.code ?? e.message}`));
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => (log.push(`close:${code}`), resolve(code))));
  return { ws, messages, log, closed };
}

export { waitFor, within };
