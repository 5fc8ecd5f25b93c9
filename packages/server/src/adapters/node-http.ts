/**
 * The node:http adapter: the request and upgrade callbacks (bound, so `app.use(rt.handle)` and
 * `server.on("upgrade", rt.handleUpgrade)` work as bare callbacks), `attach()` to an existing
 * server, and `listen()` on a server of our own with the security options' limits.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { safetyTimer } from "../clock.js";
import type { ResolvedOptions } from "../options.js";
import type { Router } from "../router.js";
import { NodeExchange, type NodeRequest, type NodeResponse } from "./node-exchange.js";

/** How long close() waits for open HTTP connections (and WebSocket close handshakes). */
export const CLOSE_GRACE_MS = 2_000;

/** Works with node:http's and node:http2's (compatibility API) request/response pairs. */
export type RequestHandler = (req: NodeRequest, res: NodeResponse, next?: (err?: unknown) => void) => boolean;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

/**
 * Connect/Express-style handler: handles requests under the path (returns true), else calls
 * `next()` (or returns false without it). Uses `req.originalUrl ?? req.url`, so it works mounted
 * under a prefix (`app.use("/x", rt.handle)`).
 */
export function nodeRequestHandler(router: Router, releaseParser = true): RequestHandler {
  return (req, res, next) => {
    const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? "/";
    if (router.handle(new NodeExchange(req, res, url, releaseParser))) return true;
    next?.();
    return false;
  };
}

/** Takes over a server's 'request' and 'upgrade' listeners: ours first, the previous ones for the rest. */
export function attachTo(server: Server, handle: RequestHandler, handleUpgrade: UpgradeHandler): void {
  const previous = server.listeners("request").slice() as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (handle(req, res)) return;
    if (previous.length === 0) {
      res.statusCode = 404;
      res.end();
      return;
    }
    for (const fn of previous) fn.call(server, req, res);
  });
  const previousUpgrade = server.listeners("upgrade").slice() as Array<(req: IncomingMessage, socket: Duplex, head: Buffer) => void>;
  server.removeAllListeners("upgrade");
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (handleUpgrade(req, socket, head)) return;
    if (previousUpgrade.length === 0) {
      socket.destroy();
      return;
    }
    for (const fn of previousUpgrade) fn.call(server, req, socket, head);
  });
}

/** An http server with the security options' limits (slow-loris, header size). */
export function limitedHttpServer(options: ResolvedOptions): Server {
  const sec = options.security;
  return createHttpServer({
    maxHeaderSize: sec.maxHeaderBytes,
    headersTimeout: sec.headersTimeoutMs,
    requestTimeout: sec.requestTimeoutMs,
    // Node checks these timeouts on this interval (30 s by default): a bound is only as good as it.
    connectionsCheckingInterval: Math.max(50, Math.min(5_000, Math.floor(sec.headersTimeoutMs / 2))),
  });
}

/**
 * Listens and returns the port. Sockets that never sent a request (e.g. a client's pre-opened
 * spare connection) are not "idle" to node:http, so close would wait for them: they are tracked
 * and ended at once by the returned closer.
 */
export async function listenOn(server: Server | import("node:http2").Http2SecureServer, port: number, host: string | undefined): Promise<{ port: number; close: () => Promise<void> }> {
  const fresh = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    fresh.add(socket);
    socket.once("close", () => fresh.delete(socket));
  });
  server.on("request", (req: IncomingMessage) => fresh.delete(req.socket));
  // HTTP/2: a session with a stream is busy; its socket is not "fresh".
  server.on("stream", (stream: { session?: { socket?: Socket } }) => {
    const s = stream.session?.socket;
    if (s) fresh.delete(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return { port: (server.address() as AddressInfo).port, close: () => closeServer(server, fresh) };
}

/** Closes a listening server: idle keep-alive sockets at once, busy ones after the grace period. */
function closeServer(server: Server | import("node:http2").Http2SecureServer, fresh: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const all = () => {
      const s = server as Server;
      if (typeof s.closeAllConnections === "function") s.closeAllConnections();
      else for (const socket of fresh) socket.destroy();
    };
    const timer = safetyTimer(all, CLOSE_GRACE_MS);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    (server as Server).closeIdleConnections?.();
    for (const socket of fresh) socket.destroy();
  });
}

/**
 * `attach()` cannot choose the http server's own limits (slow-loris, header size): the
 * application must. Returns what is laxer than the options, for a warning.
 */
export function laxLimits(server: Server, options: ResolvedOptions): string[] {
  const sec = options.security;
  const lax: string[] = [];
  if (!(server.headersTimeout > 0 && server.headersTimeout <= sec.headersTimeoutMs)) lax.push(`headersTimeout (${server.headersTimeout} ms; want ≤ ${sec.headersTimeoutMs})`);
  if (!(server.requestTimeout > 0 && server.requestTimeout <= sec.requestTimeoutMs)) lax.push(`requestTimeout (${server.requestTimeout} ms; want ≤ ${sec.requestTimeoutMs})`);
  const maxHeaderSize = (server as { maxHeaderSize?: number }).maxHeaderSize;
  if (typeof maxHeaderSize === "number" && maxHeaderSize > sec.maxHeaderBytes) lax.push(`maxHeaderSize (${maxHeaderSize}; want ≤ ${sec.maxHeaderBytes})`);
  return lax;
}
