/**
 * `createServer`: one hub, its session registry and security gate, the router with the HTTP
 * transports (SSE, long-poll, send, ticket), the WebSocket upgrade pipeline, and the node:http
 * adapter. Other runtimes mount the same router through `adapters/fetch` and `adapters/http2`.
 */
import type { Server } from "node:http";
import { CloseCode, ROUTES, ThroughlineError } from "@throughline/wire";
import { fetchHandler, type FetchHandler } from "./adapters/fetch.js";
import { CLOSE_GRACE_MS, attachTo, laxLimits, limitedHttpServer, listenOn, nodeRequestHandler, type RequestHandler, type UpgradeHandler } from "./adapters/node-http.js";
import { closingError } from "./http.js";
import { CrossNode } from "./cross-node.js";
import { Hub, type PublishOptions } from "./hub.js";
import type { ReplicaStore } from "./replica.js";
import { resolveOptions, type ResolvedOptions, type ServerOptions } from "./options.js";
import { Registry } from "./registry.js";
import { Router, sendRoute, ticketRoute } from "./router.js";
import { Security } from "./security.js";
import type { Session } from "./session.js";
import { LongPollTransport } from "./transports/long-poll.js";
import { SseTransport } from "./transports/sse.js";
import { WebSocketUpgrade } from "./transports/websocket-upgrade.js";
import { Stats, type ServerStats } from "./stats.js";
import { DIAGNOSTICS_ROUTE, DOCTOR_ROUTE, checkDoctorPage, diagnosticsRoute, doctorRoute } from "./diagnostics.js";

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
   * Publishes `data` on `topic`; returns the message id. Synchronous, so only without a
   * backplane (use `publishAsync` with one: the id exists only once the backplane stored it).
   * @throws ThroughlineError TL_BAD_TOPIC, TL_BAD_EVENT, TL_BAD_DATA, TL_MESSAGE_TOO_BIG; TL_INVALID_OPTION with a backplane
   */
  publish(topic: string, data: unknown, options?: PublishOptions): string;
  /**
   * Publishes and resolves with the message id once the message is in the history: at once
   * without a backplane, once the backplane stored it with one (every node then delivers it,
   * this one included, through the backplane's ingest). The one publish that works on both.
   * @throws ThroughlineError (rejects) TL_BAD_TOPIC, TL_BAD_EVENT, TL_BAD_DATA, TL_MESSAGE_TOO_BIG, TL_BACKPLANE_UNAVAILABLE (not confirmed: it may or may not be stored), TL_CLOSED (backplane, after close)
   */
  publishAsync(topic: string, data: unknown, options?: PublishOptions): Promise<string>;
  /**
   * Resolves once the server can serve: at once without a backplane; with one, once the ingest is
   * positioned and the retained shared history is loaded (`listen()` waits for it; requests that
   * arrive earlier wait too). Rejects if the backplane cannot be reached at start.
   */
  readonly ready: Promise<void>;
  /**
   * Takes over an existing node:http server: requests under `path` are ours, others go to the
   * server's previous 'request' listeners (like engine.io's attach); the same for upgrades.
   */
  attach(server: Server): this;
  /**
   * Connect/Express-style handler: handles requests under `path` (returns true), else calls
   * `next()` (or returns false without it). Uses `req.originalUrl ?? req.url`. Bound to the
   * server: `app.use(rt.handle)` works as a bare callback.
   */
  readonly handle: RequestHandler;
  /**
   * For an existing 'upgrade' listener; returns false (socket untouched) if not under `path`.
   * Bound, like `handle`: `server.on("upgrade", rt.handleUpgrade)` works.
   */
  readonly handleUpgrade: UpgradeHandler;
  /**
   * The Fetch API face: `Request → Promise<Response>` (SSE as a streaming body), for Bun
   * (`Bun.serve({ fetch: rt.fetch })`), Deno (`Deno.serve(rt.fetch)`), edge runtimes, Hono and
   * `@hono/node-server`. Answers a plain 404 outside `path`. Bound. WebSocket through it on Bun
   * (`websocket: bunWebSocket`) and Deno (`Deno.upgradeWebSocket`); elsewhere `GET …/ws` answers
   * 426 and clients use SSE or long-poll (see the README).
   */
  readonly fetch: FetchHandler;
  /** Creates an http server, attaches, listens. `host` @default undefined (all interfaces) */
  listen(port?: number, host?: string): Promise<ListenResult>;
  /** Client→server messages, with their session and its authenticated user (`undefined` without `authenticate`). */
  on(event: "message", fn: (data: unknown, session: Session, user: unknown) => void): () => void;
  on(event: "session", fn: (session: Session) => void): () => void;
  on(event: "sessionEnd", fn: (session: Session) => void): () => void;
  readonly sessionCount: number;
  readonly connectionCount: number;
  /** Counters for operators (see stats.ts; Prometheus: `@throughline/server/metrics`). */
  stats(): ServerStats;
  getSession(id: string): Session | undefined;
  /**
   * Graceful: every connection gets close 1001 GOING_AWAY (clients reconnect and resume),
   * timers stop, a `listen()`-created http server closes. Idempotent. Afterwards requests get
   * 503 TL_SERVER_CLOSING (polls of old sessions get their close frame).
   */
  close(): Promise<void>;
}

export { CLOSE_GRACE_MS };

/** The parts a runtime adapter mounts (see adapters/). */
export interface ServerCore {
  readonly options: ResolvedOptions;
  readonly router: Router;
  readonly registry: Registry;
  readonly security: Security;
}

/** Reaches a server's core from an adapter (never part of the public API). */
export const CORE: unique symbol = Symbol("throughline.core");

class ThroughlineServerImpl implements ThroughlineServer {
  readonly #options: ResolvedOptions;
  readonly #hub: Hub;
  readonly #registry: Registry;
  readonly #security: Security;
  readonly #router: Router;
  readonly #stats: Stats;
  readonly #upgrade: WebSocketUpgrade;
  readonly #closers: Array<() => Promise<void>> = [];
  readonly #crossNode: CrossNode | undefined;
  readonly ready: Promise<void>;
  #closing: Promise<void> | undefined;
  readonly handle: RequestHandler;
  readonly handleUpgrade: UpgradeHandler;
  readonly fetch: FetchHandler;

  constructor(options: ServerOptions | undefined) {
    const o = (this.#options = resolveOptions(options));
    this.#hub = new Hub(o);
    const registry = (this.#registry = new Registry(o, this.#hub));
    const polls = new LongPollTransport(registry);
    registry.keptOf = (session) => {
      const c = polls.kept(session);
      return c ? [c] : [];
    };
    const security = (this.#security = new Security(o, registry, polls));
    const stats = (this.#stats = new Stats(o.security.logger));
    registry.guard = stats.guard(security);
    stats.watchHub(this.#hub);
    if (o.backplane) {
      const cross = (this.#crossNode = new CrossNode(o.backplane, o, this.#hub, o.historyStore as ReplicaStore, registry, security));
      security.crossNode = cross;
      this.ready = cross.ready;
    } else {
      this.ready = Promise.resolve();
    }
    const router = (this.#router = new Router(o, registry, security));
    router.addTransport(new SseTransport(registry), "sse");
    router.addTransport(polls, "poll");
    this.#upgrade = new WebSocketUpgrade(o, registry, security, router);
    // Node upgrades arrive through handleUpgrade; as a request, the route upgrades where the runtime can (Fetch adapter).
    router.add(ROUTES.websocket, this.#upgrade.route());
    router.add(ROUTES.send, sendRoute(o, registry, security, router));
    if (o.security.authenticate) router.add(ROUTES.ticket, ticketRoute(security));
    router.onFailure((f) => stats.rejected(f.error));
    router.add(DIAGNOSTICS_ROUTE, diagnosticsRoute(registry, security, stats));
    const page = checkDoctorPage(options?.doctorPage);
    if (page) router.add(DOCTOR_ROUTE, doctorRoute(page));
    // Bound once: usable as bare callbacks (`app.use(rt.handle)`).
    this.handle = nodeRequestHandler(router, o.releaseHttpParser);
    this.handleUpgrade = (req, socket, head) => this.#upgrade.handle(req, socket, head);
    this.fetch = fetchHandler(router);
  }

  /** For runtime adapters (fetch, http2): the router and what it needs. */
  get [CORE](): ServerCore {
    return { options: this.#options, router: this.#router, registry: this.#registry, security: this.#security };
  }

  /** For runtime adapters that own a server: closed with this one. */
  addCloser(fn: () => Promise<void>): void {
    this.#closers.push(fn);
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

  stats(): ServerStats {
    return this.#stats.snapshot(this.#registry.connections);
  }

  publish(topic: string, data: unknown, options?: PublishOptions): string {
    if (this.#crossNode) throw new ThroughlineError("TL_INVALID_OPTION", "publish() is synchronous and cannot wait for the backplane: use publishAsync() with a backplane.");
    return this.#hub.publish(topic, data, options).id;
  }

  async publishAsync(topic: string, data: unknown, options?: PublishOptions): Promise<string> {
    if (this.#crossNode) return this.#crossNode.publish(topic, data, options);
    return this.#hub.publish(topic, data, options).id;
  }

  getSession(id: string): Session | undefined {
    return this.#registry.sessions.get(id);
  }

  on(event: "message" | "session" | "sessionEnd", fn: (...args: never[]) => void): () => void {
    if (typeof fn !== "function") throw new ThroughlineError("TL_INVALID_OPTION", "on(): the listener must be a function.");
    switch (event) {
      case "message":
        return this.#registry.onMessage(fn as (data: unknown, session: Session, user: unknown) => void);
      case "session":
        return this.#registry.onSession(fn as (session: Session) => void);
      case "sessionEnd":
        return this.#registry.onSessionEnd(fn as (session: Session) => void);
      default:
        throw new ThroughlineError("TL_INVALID_OPTION", `on(): unknown event ${JSON.stringify(String(event))} (use "message", "session" or "sessionEnd").`);
    }
  }

  attach(server: Server): this {
    const lax = laxLimits(server, this.#options);
    if (lax.length > 0) {
      this.#security.warn("throughline: the attached http server's limits are laxer than the security options; set them with http.createServer({ headersTimeout, requestTimeout, maxHeaderSize })", { lax });
    }
    attachTo(server, this.handle, this.handleUpgrade);
    return this;
  }

  async listen(port = 0, host?: string): Promise<ListenResult> {
    if (this.#closing) throw closingError();
    await this.ready;
    const server = limitedHttpServer(this.#options);
    attachTo(server, this.handle, this.handleUpgrade);
    const listening = await listenOn(server, port, host);
    this.#closers.push(listening.close);
    const h = host === undefined || host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
    return { server, port: listening.port, url: `http://${h}:${listening.port}${this.#options.path}` };
  }

  close(): Promise<void> {
    return (this.#closing ??= this.#shutdown());
  }

  async #shutdown(): Promise<void> {
    const registry = this.#registry;
    registry.stop();
    this.#crossNode?.close();
    this.#security.tickets.clear();
    const reason = "server shutting down";
    for (const session of [...registry.sessions.values()]) registry.endSession(session, CloseCode.GOING_AWAY, reason);
    for (const conn of [...registry.connections]) conn.close(CloseCode.GOING_AWAY, reason);
    // WebSockets (including ones refused after the upgrade) finish their close handshake, bounded.
    await this.#upgrade.close(reason);
    await Promise.all(this.#closers.map((fn) => fn()));
  }
}

/**
 * Creates a Throughline server (hub + transports). Attach it to an http server with
 * `attach()`, mount `handle()`/`handleUpgrade()` in a framework, or `listen()`.
 * @throws ThroughlineError TL_INVALID_OPTION for out-of-range or conflicting options
 */
export function createServer(options?: ServerOptions): ThroughlineServer {
  return new ThroughlineServerImpl(options);
}

/** The core of a server made by `createServer` (for adapters). */
export function coreOf(rt: ThroughlineServer): ServerCore & { addCloser(fn: () => Promise<void>): void } {
  if (!(rt instanceof ThroughlineServerImpl)) throw new ThroughlineError("TL_INVALID_OPTION", "expected a server made by createServer().");
  const core = rt[CORE];
  return { ...core, addCloser: (fn) => rt.addCloser(fn) };
}
