/**
 * The operators' view: counters of what matters (connections by transport, deliveries, resumes,
 * gaps, slow-consumer closes, rejections by code, bytes buffered) and the negotiation outcomes
 * clients report (`POST P/diagnostics`). `rt.stats()` reads them; `@throughline/server/metrics`
 * exposes them to Prometheus; with a logger that has `info`, each event is also logged.
 *
 * It hooks in from outside the transports (the connection guard, the hub's plan, the router's
 * failure hook), so the transports stay unaware of it: one counter per event, no timers.
 */
import { CloseCode, ThroughlineError, type TransportName } from "@throughline/wire";
import type { Connection } from "./connection.js";
import type { Hub } from "./hub.js";
import type { AdaptedLogger } from "./log.js";
import type { ConnectionGuard } from "./registry.js";

/** What clients reported about one transport's attempts. */
export interface NegotiationStats {
  /** Attempts by outcome (`proven`, `buffered`, `blocked`, …). */
  readonly outcomes: Record<string, number>;
  /** Failed attempts by reason (digits folded to `N`), at most `MAX_REASONS` distinct. */
  readonly reasons: Record<string, number>;
}

/** A snapshot of `rt.stats()`. Counters are totals since the server started. */
export interface ServerStats {
  /** Open connections by transport. */
  readonly connections: Record<TransportName, number>;
  /** Connections opened since start, by transport. */
  readonly opened: Record<TransportName, number>;
  /** Messages handed to a connection (one per recipient). */
  readonly deliveries: number;
  /** Connections that opened with a cursor (a resume). */
  readonly resumes: number;
  /** Gap frames sent on resume (history did not cover the cursor). */
  readonly gaps: number;
  /** Connections closed 4408 (the client read too slowly). */
  readonly slowConsumerCloses: number;
  /** Requests refused or failed, by error code (`TL_UNAUTHORIZED`, `TL_RATE_LIMITED`, …). */
  readonly rejections: Record<string, number>;
  /** Bytes written but not yet sent, over all open connections (now). */
  readonly bytesBuffered: number;
  /** Client diagnostics reports received. */
  readonly reports: number;
  /** Per transport, what clients reported. */
  readonly negotiation: Record<TransportName, NegotiationStats>;
  /** Transport clients ended up on, per report. */
  readonly chosen: Record<TransportName, number>;
  /** Reports by the `Via` header of the reporting request (a corporate proxy names itself there), at most `MAX_REASONS`. */
  readonly via: Record<string, number>;
}

/** The counting methods `Stats.guard` puts on a connection. */
interface Wrappers {
  deliver: Connection["deliver"];
  close: Connection["close"];
}

/** Distinct reasons / Via values kept; more are counted under `other` (bounded memory and metric cardinality). */
export const MAX_REASONS = 50;

const perTransport = <T>(make: () => T): Record<TransportName, T> => ({ sse: make(), websocket: make(), "long-poll": make() });

/** One attempt record as the client posts it (see `@throughline/client`'s `reportDiagnostics`). */
export interface ReportedAttempt {
  readonly transport: TransportName;
  readonly outcome: string;
  readonly reason?: string;
}

function bump(map: Record<string, number>, key: string): void {
  if (map[key] === undefined && Object.keys(map).length >= MAX_REASONS) key = "other";
  map[key] = (map[key] ?? 0) + 1;
}

/** Reasons with their numbers folded, so "held 103 ms" and "held 98 ms" count together. */
export const foldReason = (r: string): string => r.replace(/^Throughline: /, "").replace(/\d+/g, "N").slice(0, 160);

export class Stats {
  readonly #opened = perTransport(() => 0);
  #deliveries = 0;
  #resumes = 0;
  #gaps = 0;
  #slow = 0;
  #reports = 0;
  readonly #rejections: Record<string, number> = {};
  readonly #negotiation = perTransport<{ outcomes: Record<string, number>; reasons: Record<string, number> }>(() => ({ outcomes: {}, reasons: {} }));
  readonly #chosen = perTransport(() => 0);
  readonly #via: Record<string, number> = {};

  constructor(private readonly logger: AdaptedLogger | undefined) {}

  /**
   * Wraps the registry's connection guard: counts connections, and wraps each connection's
   * `deliver` and `close` on the instance so deliveries and 4408 closes are counted without
   * the transports knowing. The wrappers are made once per connection class (they call the
   * class's own methods with the connection as `this`), so a connection costs no closures.
   */
  guard(inner: ConnectionGuard | undefined): ConnectionGuard {
    return {
      bind: (conn) => {
        inner?.bind(conn);
        this.#opened[conn.transport]++;
        const w = this.#wrappersOf(conn);
        conn.deliver = w.deliver;
        conn.close = w.close;
        this.logger?.debug?.("throughline: connection opened", { transport: conn.transport, session: conn.session.id });
      },
      unbind: (conn) => {
        inner?.unbind(conn);
        // Called once per connection (the registry unbinds only what it still held).
        this.logger?.debug?.("throughline: connection closed", { transport: conn.transport, session: conn.session.id });
      },
    };
  }

  readonly #wrappers = new Map<object, Wrappers>();

  /** The counting `deliver`/`close` for a connection: shared by its class, or its own if it has own methods. */
  #wrappersOf(conn: Connection): Wrappers {
    const proto = Object.getPrototypeOf(conn) as object | null;
    const own = Object.hasOwn(conn, "deliver") || Object.hasOwn(conn, "close") || proto === null || proto === Object.prototype;
    if (!own) {
      const known = this.#wrappers.get(proto);
      if (known) return known;
    }
    const deliver = conn.deliver;
    const close = conn.close;
    const stats = this;
    const w: Wrappers = {
      deliver(this: Connection, envelope) {
        if (!this.closed) stats.#deliveries++;
        deliver.call(this, envelope);
      },
      close(this: Connection, code, reason) {
        if (code === CloseCode.TOO_SLOW && !this.closed) {
          stats.#slow++;
          stats.logger?.warn("throughline: slow consumer closed", { transport: this.transport, session: this.session.id, code });
        }
        close.call(this, code, reason);
      },
    };
    if (!own) this.#wrappers.set(proto, w);
    return w;
  }

  /** Wraps `hub.plan` (run once per new connection) to count resumes and gaps. */
  watchHub(hub: Hub): void {
    const plan = hub.plan.bind(hub);
    hub.plan = (topics, cursor, resume = true) => {
      const p = plan(topics, cursor, resume);
      if (resume && cursor !== undefined && cursor !== null && cursor !== "") this.#resumes++;
      this.#gaps += p.gaps.length;
      return p;
    };
  }

  /** A refused or failed request (the router's failure hook). */
  rejected(error: unknown): void {
    bump(this.#rejections, error instanceof ThroughlineError ? error.code : "TL_INTERNAL");
  }

  /** A client's diagnostics report (already validated). */
  report(attempts: readonly ReportedAttempt[], chosen: TransportName | undefined, via: string | undefined): void {
    this.#reports++;
    for (const a of attempts) {
      const n = this.#negotiation[a.transport];
      bump(n.outcomes, a.outcome);
      if (a.outcome !== "proven" && a.reason) bump(n.reasons, foldReason(a.reason));
    }
    if (chosen) this.#chosen[chosen]++;
    if (via) bump(this.#via, via.slice(0, 100));
    this.logger?.info?.("throughline: client negotiation", {
      chosen,
      via,
      attempts: attempts.map((a) => `${a.transport}:${a.outcome}${a.outcome !== "proven" && a.reason ? ` (${foldReason(a.reason)})` : ""}`),
    });
  }

  /** `open`: the registry's open connections (not kept here too: one set entry per connection is enough). */
  snapshot(open: Iterable<Connection>): ServerStats {
    const connections = perTransport(() => 0);
    let bytesBuffered = 0;
    for (const c of open) {
      connections[c.transport]++;
      bytesBuffered += bufferedOf(c);
    }
    const copy = (r: Record<string, number>) => ({ ...r });
    return {
      connections,
      opened: { ...this.#opened },
      deliveries: this.#deliveries,
      resumes: this.#resumes,
      gaps: this.#gaps,
      slowConsumerCloses: this.#slow,
      rejections: copy(this.#rejections),
      bytesBuffered,
      reports: this.#reports,
      negotiation: {
        sse: { outcomes: copy(this.#negotiation.sse.outcomes), reasons: copy(this.#negotiation.sse.reasons) },
        websocket: { outcomes: copy(this.#negotiation.websocket.outcomes), reasons: copy(this.#negotiation.websocket.reasons) },
        "long-poll": { outcomes: copy(this.#negotiation["long-poll"].outcomes), reasons: copy(this.#negotiation["long-poll"].reasons) },
      },
      chosen: { ...this.#chosen },
      via: copy(this.#via),
    };
  }
}

/**
 * Unsent bytes of a connection: an SSE stream's sink (`res.buffered`) or a WebSocket's
 * `bufferedAmount`. Read duck-typed, so no transport grows an accessor for it.
 */
function bufferedOf(c: Connection): number {
  const x = c as unknown as { res?: { buffered?: unknown }; ws?: { bufferedAmount?: unknown } };
  const n = x.res?.buffered ?? x.ws?.bufferedAmount;
  return typeof n === "number" && n > 0 ? n : 0;
}
