/**
 * `createServer`: the hub plus the HTTP glue. Routing follows PROTOCOL.md: requests whose
 * pathname is `path` or under `path/` are ours; everything else goes to the application.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import {
  CloseCode,
  MARKER_HEADER,
  MARKER_VALUE,
  QUERY,
  ROUTES,
  ThroughlineError,
  decodeClientFrames,
  encodeFrame,
  httpError,
  isSessionId,
  type TransportName,
} from "@throughline/wire";
import { safetyTimer } from "./clock.js";
import { closingError, readBody, rejectUpgrade, sendEmpty, sendError, splitUrl, type RequestTarget } from "./http.js";
import { Security, retryHeaders } from "./security.js";
import { Hub, type PublishOptions } from "./hub.js";
import { resolveOptions, type ResolvedOptions, type ServerOptions } from "./options.js";
import { Registry } from "./registry.js";
import type { Session } from "./session.js";
import { handlePoll } from "./transports/long-poll.js";
import { openSse } from "./transports/sse.js";
import { closeReason, openWebSocket } from "./transports/websocket.js";

/** What `listen()` resolves with. */
export interface ListenResult {
  readonly server: Server;
  readonly port: number;
  /** `http://host:port` + `path`. */
  readonly url: string;
}

export interface ThroughlineServer {
  /** Names this run of the history; part of every message id. */
  readonly epoch: string;
  /** The base path (normalized: no trailing slash). */
  readonly path: string;
  /**
   * Publishes `data` on `topic`; returns the message id.
   * @throws ThroughlineError TL_BAD_TOPIC, TL_BAD_EVENT, TL_BAD_DATA, TL_MESSAGE_TOO_BIG
   */
  publish(topic: string, data: unknown, options?: PublishOptions): string;
  /**
   * Takes over an existing node:http server: requests under `path` are ours, others go to the
   * server's previous 'request' listeners (like engine.io's attach); the same for upgrades.
   */
  attach(server: Server): this;
  /**
   * Connect/Express-style handler: handles requests under `path` (returns true), else calls
   * `next()` (or returns false without it). Uses `req.originalUrl ?? req.url`.
   */
  handle(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): boolean;
  /** For an existing 'upgrade' listener; returns false (socket untouched) if not under `path`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Creates an http server, attaches, listens. `host` @default undefined (all interfaces) */
  listen(port?: number, host?: string): Promise<ListenResult>;
  on(event: "message", fn: (data: unknown, session: Session) => void): () => void;
  on(event: "session", fn: (session: Session) => void): () => void;
  on(event: "sessionEnd", fn: (session: Session) => void): () => void;
  readonly sessionCount: number;
  readonly connectionCount: number;
  getSession(id: string): Session | undefined;
  /**
   * Graceful: every connection gets close 1001 GOING_AWAY (clients reconnect and resume),
   * timers stop, a `listen()`-created http server closes. Idempotent. Afterwards requests get
   * 503 TL_SERVER_CLOSING (polls of old sessions get their close frame).
   */
  close(): Promise<void>;
}

/** How long close() waits for WebSocket close handshakes and open HTTP connections. */
export const CLOSE_GRACE_MS = 2_000;

interface RouteSpec {
  readonly method: "GET" | "POST";
  readonly transport?: TransportName;
}

const ROUTE_TABLE: ReadonlyMap<string, RouteSpec> = new Map<string, RouteSpec>([
  [ROUTES.sse, { method: "GET", transport: "sse" }],
  [ROUTES.websocket, { method: "GET", transport: "websocket" }],
  [ROUTES.poll, { method: "GET", transport: "long-poll" }],
  [ROUTES.send, { method: "POST" }],
  [ROUTES.ticket, { method: "POST" }],
]);


class ThroughlineServerImpl implements ThroughlineServer {
  readonly #options: ResolvedOptions;
  readonly #hub: Hub;
  readonly #registry: Registry;
  readonly #security: Security;
  readonly #wss: WebSocketServer;
  readonly #ownServers: Server[] = [];
  readonly #freshSockets = new Map<Server, Set<Socket>>();
  #closing: Promise<void> | undefined;

  constructor(options: ServerOptions | undefined) {
    this.#options = resolveOptions(options);
    this.#hub = new Hub(this.#options);
    this.#registry = new Registry(this.#options, this.#hub);
    this.#security = new Security(this.#options, this.#registry);
    this.#registry.guard = this.#security;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.#options.maxInboundBytes,
      perMessageDeflate: false,
      clientTracking: true,
    });
    this.#wss.on("headers", (headers) => headers.push(`${MARKER_HEADER}: ${MARKER_VALUE}`, "X-Content-Type-Options: nosniff"));
    this.#wss.on("error", () => {});
  }

  get epoch(): string {
    return this.#hub.epoch;
  }

  get path(): string {
    return this.#options.path;
  }

  get sessionCount(): number {
    return this.#registry.sessions.size;
  }

  get connectionCount(): number {
    return this.#registry.connectionCount;
  }

  publish(topic: string, data: unknown, options?: PublishOptions): string {
    return this.#hub.publish(topic, data, options).id;
  }

  getSession(id: string): Session | undefined {
    return this.#registry.sessions.get(id);
  }

  on(event: "message" | "session" | "sessionEnd", fn: (...args: never[]) => void): () => void {
    if (typeof fn !== "function") throw new ThroughlineError("TL_INVALID_OPTION", "on(): the listener must be a function.");
    switch (event) {
      case "message":
        return this.#registry.onMessage(fn as (data: unknown, session: Session) => void);
      case "session":
        return this.#registry.onSession(fn as (session: Session) => void);
      case "sessionEnd":
        return this.#registry.onSessionEnd(fn as (session: Session) => void);
      default:
        throw new ThroughlineError("TL_INVALID_OPTION", `on(): unknown event ${JSON.stringify(String(event))} (use "message", "session" or "sessionEnd").`);
    }
  }

  #route(pathname: string): string | undefined {
    const p = this.#options.path;
    if (pathname === p) return "";
    return pathname.startsWith(`${p}/`) ? pathname.slice(p.length) : undefined;
  }

  handle(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): boolean {
    const target = splitUrl((req as { originalUrl?: string }).originalUrl ?? req.url ?? "/");
    const route = this.#route(target.pathname);
    if (route === undefined) {
      next?.();
      return false;
    }
    const fail = (err: unknown) => {
      this.#security.report(req, err, target.pathname);
      sendError(res, err, retryHeaders(err));
    };
    try {
      const spec = ROUTE_TABLE.get(route);
      for (const [k, v] of Object.entries(this.#security.corsHeaders(req, spec ? `${spec.method}, OPTIONS` : "GET, POST, OPTIONS"))) res.setHeader(k, v);
      const done = this.#dispatch(req, res, route, target);
      if (done) done.catch(fail);
    } catch (err) {
      // Never throw out of a request handler.
      fail(err);
    }
    return true;
  }

  #dispatch(req: IncomingMessage, res: ServerResponse, route: string, target: RequestTarget): Promise<void> | undefined {
    const spec = ROUTE_TABLE.get(route);
    // Without `authenticate` there is nothing to exchange for a ticket: the route does not exist.
    if (!spec || (route === ROUTES.ticket && !this.#options.security.authenticate)) throw httpError("TL_NOT_FOUND", `no route ${JSON.stringify(route.slice(0, 64) || "/")} under ${this.#options.path || "/"}.`);
    if (spec.transport && !this.#options.transports.has(spec.transport)) {
      throw httpError("TL_TRANSPORT_DISABLED", `the ${spec.transport} transport is disabled on this server.`);
    }
    const allow = `${spec.method}, OPTIONS`;
    if (req.method === "OPTIONS") {
      this.#security.checkOrigin(req, false);
      sendEmpty(res, 204, { allow });
      return undefined;
    }
    if (req.method !== spec.method) {
      sendError(res, httpError("TL_METHOD_NOT_ALLOWED", `${String(req.method).slice(0, 16)} is not allowed here; use ${spec.method}.`), { allow });
      return undefined;
    }
    switch (route) {
      case ROUTES.sse:
        if (this.#registry.closed) throw closingError();
        return this.#gate(req, res, "sse", target.query, () => {
          if (this.#registry.closed) throw closingError();
          openSse(this.#registry, req, res, target.query);
        });
      case ROUTES.websocket:
        sendError(res, httpError("TL_UPGRADE_REQUIRED", "this route needs a WebSocket upgrade."), { upgrade: "websocket" });
        return undefined;
      case ROUTES.poll:
        return this.#gate(req, res, "poll", target.query, () => handlePoll(this.#registry, req, res, target.query));
      case ROUTES.ticket:
        return this.#security.ticket(req, res) ?? undefined;
      default:
        return this.#send(req, res, target.query);
    }
  }

  /**
   * Runs the security gate, then opens the transport with the admission bound to it. A client
   * that left while an async `authenticate` ran gets nothing opened.
   */
  #gate(req: IncomingMessage, res: ServerResponse, route: "sse" | "poll", query: URLSearchParams, open: () => void): Promise<void> | undefined {
    const go = () => {
      if (res.destroyed || req.socket.destroyed) {
        this.#security.release(req);
        return;
      }
      this.#security.within(req, open);
    };
    const admitted = this.#security.admit(req, route, query);
    if (admitted) return admitted.then(go);
    go();
    return undefined;
  }

  /** `POST P/send`: client→server frames of an SSE or long-poll session. */
  async #send(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    if (this.#registry.closed) {
      // Not reading the body: close the connection after the answer instead.
      sendError(res, closingError(), { connection: "close" });
      return;
    }
    let text: string;
    try {
      // Authenticated before the body is read: strangers do not get to upload.
      await this.#security.admit(req, "send", query);
      text = req.readableEnded ? alreadyParsedBody(req, this.#options.maxInboundBytes) : await readBody(req, this.#options.maxInboundBytes);
    } catch (err) {
      this.#security.report(req, err, "send");
      sendError(res, err, req.readableEnded ? {} : { connection: "close" });
      return;
    }
    const param = query.get(QUERY.session);
    if (param === null || param === "") throw httpError("TL_BAD_REQUEST", "missing `session` query parameter.");
    const session = isSessionId(param) ? this.#registry.sessions.get(param) : undefined;
    if (!session) throw httpError("TL_UNKNOWN_SESSION", "unknown or expired session: reconnect without `session` to start a new one.");
    const frames = decodeClientFrames(text);
    this.#registry.dispatch(frames, session);
    sendEmpty(res, 204);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const target = splitUrl(req.url ?? "/");
    const route = this.#route(target.pathname);
    if (route === undefined) return false;
    try {
      if (route !== ROUTES.websocket) throw httpError("TL_NOT_FOUND", `no WebSocket route ${JSON.stringify(route.slice(0, 64) || "/")} under ${this.#options.path || "/"}.`);
      if (!this.#options.transports.has("websocket")) throw httpError("TL_TRANSPORT_DISABLED", "the websocket transport is disabled on this server.");
      if (req.method !== "GET") throw httpError("TL_METHOD_NOT_ALLOWED", "a WebSocket upgrade must be a GET.");
      if (this.#registry.closed) throw closingError();
      const upgrade = () => {
        if (socket.destroyed) return this.#security.release(req);
        // ws drops a socket that died before the handshake without calling back: free its slot.
        socket.once("close", () => this.#security.release(req));
        this.#wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
          try {
            if (this.#registry.closed) {
              ws.close(CloseCode.GOING_AWAY, "server shutting down");
              return;
            }
            const refusal = this.#security.refusalOf(req);
            if (refusal) {
              // After the upgrade, so a browser learns the code (a refused upgrade is just "failed").
              ws.on("error", () => {});
              ws.send(encodeFrame({ type: "close", code: refusal.code, reason: refusal.reason }));
              ws.close(refusal.code, closeReason(refusal.reason));
              return;
            }
            this.#security.within(req, () => openWebSocket(this.#registry, ws, req));
          } catch {
            ws.terminate();
          }
        });
      };
      const refuse = (err: unknown) => {
        this.#security.report(req, err, target.pathname);
        rejectUpgrade(socket, err, retryHeaders(err));
      };
      const admitted = this.#security.admitUpgrade(req, target.query);
      if (admitted) {
        socket.on("error", () => socket.destroy()); // a reset while authenticating must not crash
        admitted.then(upgrade, refuse).catch(() => socket.destroy());
      } else {
        upgrade();
      }
    } catch (err) {
      this.#security.report(req, err, target.pathname);
      rejectUpgrade(socket, err, retryHeaders(err));
    }
    return true;
  }

  attach(server: Server): this {
    this.#checkServerLimits(server);
    const previous = server.listeners("request").slice() as Array<(req: IncomingMessage, res: ServerResponse) => void>;
    server.removeAllListeners("request");
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      if (this.handle(req, res)) return;
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
      if (this.handleUpgrade(req, socket, head)) return;
      if (previousUpgrade.length === 0) {
        socket.destroy();
        return;
      }
      for (const fn of previousUpgrade) fn.call(server, req, socket, head);
    });
    return this;
  }

  async listen(port = 0, host?: string): Promise<ListenResult> {
    if (this.#closing) throw closingError();
    const sec = this.#options.security;
    const server = createHttpServer({
      maxHeaderSize: sec.maxHeaderBytes,
      headersTimeout: sec.headersTimeoutMs,
      requestTimeout: sec.requestTimeoutMs,
      // Node checks these timeouts on this interval (30 s by default): a bound is only as good as it.
      connectionsCheckingInterval: Math.max(50, Math.min(5_000, Math.floor(sec.headersTimeoutMs / 2))),
    });
    this.attach(server);
    this.#ownServers.push(server);
    // Sockets that never sent a request (e.g. a client's pre-opened spare connection) are not
    // "idle" to node:http, so close() would wait for them; track them to end them at once.
    const fresh = new Set<Socket>();
    this.#freshSockets.set(server, fresh);
    server.on("connection", (socket: Socket) => {
      fresh.add(socket);
      socket.once("close", () => fresh.delete(socket));
    });
    server.on("request", (req: IncomingMessage) => fresh.delete(req.socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const actual = (server.address() as AddressInfo).port;
    const h = host === undefined || host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
    return { server, port: actual, url: `http://${h}:${actual}${this.#options.path}` };
  }

  /**
   * `attach()` cannot choose the http server's own limits (slow-loris, header size): the
   * application must. Says so through the logger when they are laxer than the options.
   */
  #checkServerLimits(server: Server): void {
    const sec = this.#options.security;
    const lax: string[] = [];
    if (!(server.headersTimeout > 0 && server.headersTimeout <= sec.headersTimeoutMs)) lax.push(`headersTimeout (${server.headersTimeout} ms; want ≤ ${sec.headersTimeoutMs})`);
    if (!(server.requestTimeout > 0 && server.requestTimeout <= sec.requestTimeoutMs)) lax.push(`requestTimeout (${server.requestTimeout} ms; want ≤ ${sec.requestTimeoutMs})`);
    const maxHeaderSize = (server as { maxHeaderSize?: number }).maxHeaderSize;
    if (typeof maxHeaderSize === "number" && maxHeaderSize > sec.maxHeaderBytes) lax.push(`maxHeaderSize (${maxHeaderSize}; want ≤ ${sec.maxHeaderBytes})`);
    if (lax.length > 0) {
      this.#security.warn("throughline: the attached http server's limits are laxer than the security options; set them with http.createServer({ headersTimeout, requestTimeout, maxHeaderSize })", { lax });
    }
  }

  close(): Promise<void> {
    return (this.#closing ??= this.#shutdown());
  }

  async #shutdown(): Promise<void> {
    const registry = this.#registry;
    registry.stop();
    this.#security.tickets.clear();
    const reason = "server shutting down";
    for (const session of [...registry.sessions.values()]) registry.endSession(session, CloseCode.GOING_AWAY, reason);
    for (const conn of [...registry.connections]) conn.close(CloseCode.GOING_AWAY, reason);
    // WebSockets (including ones refused after the upgrade) finish their close handshake, bounded.
    const sockets = [...this.#wss.clients];
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) return resolve();
            const timer = safetyTimer(() => {
              ws.terminate();
              resolve();
            }, CLOSE_GRACE_MS);
            ws.once("close", () => {
              clearTimeout(timer);
              resolve();
            });
            if (ws.readyState === ws.OPEN) ws.close(CloseCode.GOING_AWAY, reason);
          }),
      ),
    );
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    await Promise.all(this.#ownServers.map((s) => closeHttpServer(s, this.#freshSockets.get(s))));
  }
}

/**
 * The body when a framework's body parser (e.g. `express.json()`) already read the stream:
 * waiting for 'end' would hang, so `req.body` is used instead.
 * @throws ThroughlineError TL_BAD_MESSAGE (nothing usable) or TL_PAYLOAD_TOO_LARGE
 */
function alreadyParsedBody(req: IncomingMessage, limit: number): string {
  const body = (req as { body?: unknown }).body;
  let text: string | undefined;
  if (typeof body === "string") text = body;
  else if (Buffer.isBuffer(body)) text = body.toString("utf8");
  else if (body !== undefined && body !== null && typeof body === "object" && Object.keys(body).length > 0) text = JSON.stringify(body);
  if (text === undefined) throw httpError("TL_BAD_MESSAGE", "the request body was already consumed by another middleware and is not available as req.body; mount Throughline before body parsers.");
  if (Buffer.byteLength(text) > limit) throw httpError("TL_PAYLOAD_TOO_LARGE", `the body exceeds maxInboundBytes (${limit} bytes); send smaller messages.`);
  return text;
}

/** Closes a listening server: idle keep-alive sockets at once, busy ones after the grace period. */
function closeHttpServer(server: Server, fresh: Set<Socket> | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const timer = safetyTimer(() => server.closeAllConnections(), CLOSE_GRACE_MS);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
    for (const socket of fresh ?? []) socket.destroy();
  });
}

/**
 * Creates a Throughline server (hub + transports). Attach it to an http server with
 * `attach()`, mount `handle()`/`handleUpgrade()` in a framework, or `listen()`.
 * @throws ThroughlineError TL_INVALID_OPTION for out-of-range or conflicting options
 */
export function createServer(options?: ServerOptions): ThroughlineServer {
  return new ThroughlineServerImpl(options);
}
