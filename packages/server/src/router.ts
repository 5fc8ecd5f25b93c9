/**
 * The router: requests whose pathname is `path` or under `path/` are ours (PROTOCOL.md), the
 * rest goes back to the application. Each route has one method and a handler; the router adds
 * CORS, answers OPTIONS, refuses other methods, and turns anything a handler throws into the
 * JSON error answer. Runtime adapters call `handle(ex)` with their `Exchange`.
 *
 * Routes are a table so features can add theirs (`add`) without touching the dispatch; `onAnswer`
 * hooks see every request's outcome (for stats and logs).
 */
import { QUERY, decodeClientFrames, httpError, isSessionId, type TransportName } from "@throughline/wire";
import { splitUrl, type Exchange } from "./exchange.js";
import { closingError, sendEmpty, sendError } from "./http.js";
import type { ResolvedOptions } from "./options.js";
import type { Registry } from "./registry.js";
import { retryHeaders, type Security } from "./security.js";
import type { HttpTransport } from "./transport.js";

/** One route under the base path. */
export interface Route {
  readonly method: "GET" | "POST";
  /** The transport it belongs to: answered 404 TL_TRANSPORT_DISABLED when that one is off. */
  readonly transport?: TransportName;
  /** Answers the request; may return a promise (the router answers its rejection). */
  handle(ex: Exchange, query: URLSearchParams): void | Promise<void>;
}

/** What a hook learns about a request the router refused or failed. */
export interface RouteFailure {
  readonly ex: Exchange;
  readonly route: string;
  readonly error: unknown;
}

export class Router {
  readonly #routes = new Map<string, Route>();
  readonly #failureHooks = new Set<(f: RouteFailure) => void>();

  constructor(
    private readonly options: ResolvedOptions,
    private readonly registry: Registry,
    private readonly security: Security,
  ) {}

  /** Adds (or replaces) the route `route` (e.g. `ROUTES.sse`, `"/diagnostics"`). */
  add(route: string, spec: Route): this {
    this.#routes.set(route, spec);
    return this;
  }

  /** Adds a streaming or polling transport under its route, behind the security gate. */
  addTransport(transport: HttpTransport, gate: "sse" | "poll"): this {
    return this.add(transport.route, {
      method: "GET",
      transport: transport.name,
      handle: (ex, query) => this.#gate(ex, gate, query, () => transport.serve(ex, query)),
    });
  }

  /** Called with every refused or failed request (after the security report). Returns an unsubscribe. */
  onFailure(fn: (f: RouteFailure) => void): () => void {
    this.#failureHooks.add(fn);
    return () => this.#failureHooks.delete(fn);
  }

  /** The route of `pathname` under the base path (`""` for the path itself), or `undefined`. */
  match(pathname: string): string | undefined {
    const p = this.options.path;
    if (pathname === p) return "";
    return pathname.startsWith(`${p}/`) ? pathname.slice(p.length) : undefined;
  }

  /** Handles `ex` if its path is ours (returns true); false (nothing touched) otherwise. */
  handle(ex: Exchange): boolean {
    const target = splitUrl(ex.url);
    const route = this.match(target.pathname);
    if (route === undefined) return false;
    const fail = (err: unknown) => this.fail(ex, err, target.pathname);
    try {
      const spec = this.#routes.get(route);
      ex.addHeaders(this.security.corsHeaders(ex, spec ? `${spec.method}, OPTIONS` : "GET, POST, OPTIONS"));
      const done = this.#dispatch(ex, route, spec, target.query);
      if (done) done.catch(fail);
    } catch (err) {
      // Never throw out of a request handler.
      fail(err);
    }
    return true;
  }

  /** Reports and answers a refused or failed request. */
  fail(ex: Exchange, err: unknown, route: string, closeConnection = false): void {
    this.security.report(ex, err, route);
    for (const fn of this.#failureHooks) {
      try {
        fn({ ex, route, error: err });
      } catch {
        // A broken hook must not break serving.
      }
    }
    sendError(ex, err, retryHeaders(err), closeConnection);
  }

  #dispatch(ex: Exchange, route: string, spec: Route | undefined, query: URLSearchParams): void | Promise<void> {
    if (!spec) throw httpError("TL_NOT_FOUND", `no route ${JSON.stringify(route.slice(0, 64) || "/")} under ${this.options.path || "/"}.`);
    if (spec.transport && !this.options.transports.has(spec.transport)) {
      throw httpError("TL_TRANSPORT_DISABLED", `the ${spec.transport} transport is disabled on this server.`);
    }
    const allow = `${spec.method}, OPTIONS`;
    if (ex.method === "OPTIONS") {
      this.security.checkOrigin(ex, false);
      sendEmpty(ex, 204, { allow });
      return undefined;
    }
    if (ex.method !== spec.method) {
      sendError(ex, httpError("TL_METHOD_NOT_ALLOWED", `${ex.method.slice(0, 16)} is not allowed here; use ${spec.method}.`), { allow });
      return undefined;
    }
    return spec.handle(ex, query);
  }

  /**
   * Runs the security gate, then opens the transport with the admission bound to it. A client
   * that left while an async `authenticate` ran gets nothing opened.
   */
  #gate(ex: Exchange, route: "sse" | "poll", query: URLSearchParams, open: () => void): Promise<void> | undefined {
    // A new stream is refused at once while closing; polls of old sessions still get their close frame.
    if (route === "sse" && this.registry.closed) throw closingError();
    const go = () => {
      if (ex.gone) {
        this.security.release(ex);
        return;
      }
      this.security.within(ex, open);
    };
    const admitted = this.security.admit(ex, route, query);
    if (admitted) return admitted.then(go);
    go();
    return undefined;
  }
}

/** `POST P/send`: client→server frames of an SSE or long-poll session. */
export function sendRoute(options: ResolvedOptions, registry: Registry, security: Security, router: Router): Route {
  return {
    method: "POST",
    async handle(ex, query) {
      if (registry.closed) {
        // Not reading the body: close the connection after the answer instead.
        sendError(ex, closingError(), {}, true);
        return;
      }
      let text: string;
      try {
        // Authenticated before the body is read: strangers do not get to upload.
        await security.admit(ex, "send", query);
        text = await ex.readBody(options.maxInboundBytes);
      } catch (err) {
        router.fail(ex, err, "send", true);
        return;
      }
      const param = query.get(QUERY.session);
      if (param === null || param === "") throw httpError("TL_BAD_REQUEST", "missing `session` query parameter.");
      const session = isSessionId(param) ? registry.sessions.get(param) : undefined;
      if (!session) throw httpError("TL_UNKNOWN_SESSION", "unknown or expired session: reconnect without `session` to start a new one.");
      registry.dispatch(decodeClientFrames(text), session);
      sendEmpty(ex, 204);
    },
  };
}

/** `POST P/ticket`: exists only with `authenticate` (there is nothing to exchange otherwise). */
export function ticketRoute(security: Security): Route {
  return { method: "POST", handle: (ex) => security.ticket(ex) ?? undefined };
}
