/**
 * The security gate every request under the path goes through before a transport sees it:
 * origin check, authentication (header, cookie or WebSocket ticket), per-topic authorization,
 * session ownership, connection limits and the long-poll rate. What it admits is bound to the
 * connection the transport then opens (its limit slot, and a timer that closes it with 4401 when
 * the credentials expire).
 *
 * Transports open their connection synchronously, so the admission of the request being handled
 * is handed to `bind()` through `within()` instead of through every transport's signature.
 */
import { CloseCode, QUERY, ThroughlineError, closeCodeOf, httpError, isSessionId, parseTopics } from "@throughline/wire";
import { ANONYMOUS, bounded, toPrincipal, unauthorized, type Principal } from "./auth.js";
import { corsHeaders, originAllowed, originOf } from "./cors.js";
import type { Connection } from "./connection.js";
import type { Exchange, Inbound } from "./exchange.js";
import { sendJson } from "./http.js";
import { ConnectionLimits, PollRate, clientAddress, rateLimited, retryAfterOf, type Slot } from "./limits.js";
import type { ResolvedOptions } from "./options.js";
import type { Registry } from "./registry.js";
import type { SessionImpl } from "./session.js";
import { SharedLimits, type SharedSlot } from "./shared-limits.js";
import { TicketStore } from "./tickets.js";
import { MAX_TIMER_MS } from "./validate.js";

/** What a request was admitted as. */
export interface Admission {
  readonly principal: Principal;
  /** The connection-limit place it holds until a connection claims it (or the request ends). */
  slot: Slot | undefined;
  /** Its place in the counts across nodes (with a backplane), claimed like `slot`. */
  shared?: SharedSlot | undefined;
  /** Where it came from, for a slot taken late (see `bind`). */
  readonly address: string;
  /**
   * WebSocket only: refuse after the upgrade with this close (4400/4403/4404), because a browser
   * sees the close code but never the status of a refused upgrade.
   */
  refusal?: { readonly code: number; readonly reason: string };
}

/** What a request under the path is, for the gate. */
type Kind = "connect" | "continue" | "send";

/** What the gate asks the transport of a route (see transport.ts): does this request open a connection, which connection does a session keep. */
export interface RouteState {
  opens(query: URLSearchParams): boolean;
  kept?(session: SessionImpl): Connection | undefined;
}

// Node's timers overflow beyond MAX_TIMER_MS; longer expiries are re-armed in steps.

const forbiddenOrigin = () => httpError("TL_FORBIDDEN", "this origin is not allowed (see the server's `cors.origins`).");

/** `then` that stays synchronous for plain values, so requests without async callbacks never wait a tick. */
function then<T, R>(value: T | Promise<T>, fn: (v: T) => R | Promise<R>): R | Promise<R> {
  return value instanceof Promise ? value.then(fn) : fn(value);
}

export class Security {
  readonly limits: ConnectionLimits;
  readonly tickets: TicketStore;
  /** With a backplane: the limits across nodes (shared-limits.ts); the per-node ones still apply. */
  readonly shared: SharedLimits | undefined;
  readonly #admissions = new WeakMap<Inbound, Admission>();
  readonly #bound = new Map<Connection, { slot: Slot | undefined; shared: SharedSlot | undefined; timer: unknown }>();
  readonly #owners = new WeakMap<SessionImpl, string>();
  readonly #pollRates = new WeakMap<SessionImpl, PollRate>();
  #current: Admission | undefined;
  /** Set by the server with a backplane: loads shared sessions and waits for the ingest before admitting. */
  crossNode:
    | {
        prepare(req: Inbound, query: URLSearchParams): Promise<void> | undefined;
        shareTicket(ticket: string, principal: Principal): Promise<void>;
      }
    | undefined;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly registry: Registry,
    /** The long-poll transport: polls continue a kept connection. */
    private readonly polls: RouteState,
  ) {
    const s = options.security;
    this.limits = new ConnectionLimits({ total: s.maxConnections, perAddress: s.maxConnectionsPerAddress, perUser: s.maxConnectionsPerUser });
    this.tickets = new TicketStore(s.ticketTtlMs, s.maxTickets, s.maxConnectionsPerUser, () => options.clock.now());
    this.shared = options.backplane
      ? new SharedLimits(options.backplane.counters, { perAddress: s.maxConnectionsPerAddress, perUser: s.maxConnectionsPerUser, pollsPerSecond: s.maxPollsPerSecond, ticketsPerUser: s.maxConnectionsPerUser })
      : undefined;
  }

  /** CORS headers for a request under the path (`allow`: the route's methods). */
  corsHeaders(req: Inbound, allow: string): Record<string, string> {
    return corsHeaders(req, this.options.security.cors, allow);
  }

  /**
   * Refuses a browser page of a foreign origin: for HTTP routes only when `cors` is configured
   * (otherwise the browser already withholds the answer), for WebSocket upgrades always.
   * @throws ThroughlineError TL_FORBIDDEN (403)
   */
  checkOrigin(req: Inbound, upgrade: boolean): void {
    const { cors, trustProxy } = this.options.security;
    if (!upgrade && !cors) return;
    if (!originAllowed(req, cors, trustProxy)) throw forbiddenOrigin();
  }

  /**
   * Admits an HTTP request of `P/sse`, `P/poll` or `P/send` (after the route and method checks).
   * Synchronous unless `authenticate`/`authorize` are async.
   * @throws ThroughlineError 400 TL_BAD_TOPIC, 401, 403, 404 TL_UNKNOWN_SESSION, 429
   */
  admit(req: Inbound, route: "sse" | "poll" | "send", query: URLSearchParams): void | Promise<void> {
    this.checkOrigin(req, false);
    const prepared = this.crossNode?.prepare(req, query);
    if (prepared) return prepared.then(() => this.#admit(req, route, query));
    return this.#admit(req, route, query);
  }

  #admit(req: Inbound, route: "sse" | "poll" | "send", query: URLSearchParams): void | Promise<void> {
    const kind = this.#kind(route, query);
    const topics = kind === "connect" ? this.#topics(query) : undefined;
    return then(this.#authenticate(req), (principal) =>
      then(topics ? this.#authorize(req, principal, topics) : undefined, (denied) => {
        if (denied !== undefined) throw httpError("TL_FORBIDDEN", `not allowed to receive topic ${JSON.stringify(denied)}.`);
        return this.#admitted(req, kind, query, principal, route === "poll");
      }),
    );
  }

  /**
   * Admits a WebSocket upgrade: origin, then the ticket (or `authenticate`), then limits; topic
   * and session refusals are recorded for a close after the upgrade (see `Admission.refusal`).
   * @throws ThroughlineError 401, 403 (origin), 429 — answered on the socket before any upgrade
   */
  admitUpgrade(req: Inbound, query: URLSearchParams): void | Promise<void> {
    this.checkOrigin(req, true);
    const prepared = this.crossNode?.prepare(req, query);
    if (prepared) return prepared.then(() => this.#admitUpgrade(req, query));
    return this.#admitUpgrade(req, query);
  }

  #admitUpgrade(req: Inbound, query: URLSearchParams): void | Promise<void> {
    const ticket = query.get(QUERY.ticket);
    let topics: string[] | undefined;
    let refusal: Admission["refusal"];
    try {
      topics = this.#topics(query);
    } catch (err) {
      refusal = { code: closeCodeOf((err as ThroughlineError).code), reason: (err as Error).message };
    }
    let principal: Principal | Promise<Principal>;
    if (ticket !== null) {
      const p = this.tickets.redeem(ticket);
      if (!p) throw unauthorized("the ticket is unknown, expired or already used");
      principal = p;
    } else {
      principal = this.#authenticate(req);
    }
    return then(principal, (pr) =>
      then(topics && !refusal ? this.#authorize(req, pr, topics) : undefined, (denied) => {
        if (denied !== undefined) refusal = { code: closeCodeOf("TL_FORBIDDEN"), reason: `not allowed to receive topic ${JSON.stringify(denied)}` };
        if (refusal) {
          this.#admissions.set(req, { principal: pr, slot: undefined, address: clientAddress(req, this.options.security.trustProxy), refusal });
          return;
        }
        try {
          return this.#admitted(req, "connect", query, pr, false);
        } catch (err) {
          if ((err as ThroughlineError).code !== "TL_UNKNOWN_SESSION") throw err;
          this.#admissions.set(req, { principal: pr, slot: undefined, address: clientAddress(req, this.options.security.trustProxy), refusal: { code: closeCodeOf("TL_UNKNOWN_SESSION"), reason: "unknown or expired session" } });
        }
      }),
    );
  }

  /** The key of the user that owns a session (`undefined`: no `authenticate`, or not bound yet). */
  ownerOf(session: SessionImpl): string | undefined {
    return this.#owners.get(session);
  }

  /** Binds a session loaded from the shared store to its owner (cross-node.ts). */
  adoptOwner(session: SessionImpl, key: string): void {
    if (!this.#owners.has(session)) this.#owners.set(session, key);
  }

  /** The close a WebSocket admitted with a refusal must get instead of its stream. */
  refusalOf(req: Inbound): Admission["refusal"] {
    return this.#admissions.get(req)?.refusal;
  }

  /**
   * `POST P/ticket`: authenticates and answers `{ticket, expiresInMs}`. Without `authenticate`
   * there is nothing to exchange: 404, and the client connects without a ticket.
   * @throws ThroughlineError 401, 403 (origin), 404, 429 (too many outstanding tickets)
   */
  ticket(req: Exchange): void | Promise<void> {
    this.checkOrigin(req, false);
    return then(this.#authenticate(req), (principal) => {
      const ticket = this.tickets.issue(principal);
      if (ticket === undefined) throw rateLimited("too many outstanding tickets; retry shortly.", 1);
      const key = principal.key;
      if (this.shared && key !== undefined) {
        // Counted across nodes first (fail-closed: the ticket needs the store to be shared anyway).
        const ttl = (this.tickets.expiryOf(ticket) ?? 0) - this.options.clock.now();
        return this.shared.ticket(ticket, key, ttl).then(
          () => this.#answerTicket(req, ticket, principal),
          (err: unknown) => {
            this.tickets.discard(ticket);
            throw err;
          },
        );
      }
      return this.#answerTicket(req, ticket, principal);
    });
  }

  /** Shares the ticket with every node (with a backplane), then answers `{ticket, expiresInMs}`. */
  #answerTicket(req: Exchange, ticket: string, principal: Principal): void | Promise<void> {
    const answer = () => {
      const now = this.options.clock.now();
      const expiresInMs = Math.max(0, Math.min(this.options.security.ticketTtlMs, (principal.expiresAt ?? Infinity) - now));
      sendJson(req, JSON.stringify({ ticket, expiresInMs }));
    };
    // With a backplane the ticket must be redeemable on every node before the client has it.
    const shared = this.crossNode?.shareTicket(ticket, principal);
    if (!shared) return answer();
    return shared.then(answer, (err: unknown) => {
      this.tickets.discard(ticket);
      if (principal.key !== undefined) this.shared?.ticketSpent(ticket, principal.key);
      throw err;
    });
  }

  /** Runs a transport's synchronous open with this request's admission available to `bind()`. */
  within<T>(req: Inbound, open: () => T): T {
    const admission = this.#admissions.get(req);
    this.#current = admission;
    try {
      return open();
    } finally {
      this.#current = undefined;
      // A slot no connection claimed (refused, or a continuation) is given back at once.
      this.release(req);
      // The admission has served its purpose: the request (alive as long as its stream) must
      // not keep it, and its principal, for the life of the connection.
      this.#admissions.delete(req);
    }
  }

  /** Gives back the slot of a request that will open no connection (e.g. its socket went away first). */
  release(req: Inbound): void {
    const a = this.#admissions.get(req);
    a?.slot?.release();
    a?.shared?.release();
    if (a) a.slot = a.shared = undefined;
  }

  /** Called by the registry when a connection is added: claims the slot, arms the expiry. */
  bind(conn: Connection): void {
    const a = this.#current;
    if (!a || this.#bound.has(conn)) return;
    // A poll admitted as a continuation can still open a connection when, during an async
    // `authenticate`, the session's long-poll connection ended: it is counted all the same.
    const slot = a.slot ?? this.limits.acquire(a.address, a.principal.key, true);
    // Held by the session (one client counts once across nodes), which exists only now.
    const shared = a.shared ?? this.shared?.hold(conn.session.id, a.address, a.principal.key);
    shared?.moveTo(conn.session.id);
    a.slot = a.shared = undefined;
    if (a.principal.key !== undefined && !this.#owners.has(conn.session)) this.#owners.set(conn.session, a.principal.key);
    // The session's user (for `onMessage`): its first admitted connection's; later ones have the same owner.
    if (conn.session.user === undefined) conn.session.user = a.principal.user;
    const entry = { slot, shared, timer: undefined as unknown };
    this.#bound.set(conn, entry);
    this.#arm(conn, entry, a.principal.expiresAt);
  }

  /** Called by the registry when a connection goes. */
  unbind(conn: Connection): void {
    const entry = this.#bound.get(conn);
    if (!entry) return;
    this.#bound.delete(conn);
    entry.slot?.release();
    entry.shared?.release();
    if (entry.timer !== undefined) this.registry.clearTimer(entry.timer);
  }

  /** Logs a refusal or an error (never the query string, headers, tokens or tickets). */
  report(req: Inbound, err: unknown, pathname: string): void {
    const logger = this.options.security.logger;
    if (!logger) return;
    const e = err instanceof ThroughlineError ? err : undefined;
    const fields = {
      code: e?.code ?? "TL_INTERNAL",
      status: e?.status ?? 500,
      method: String(req.method).slice(0, 16),
      route: pathname.slice(0, 128),
      address: clientAddress(req, this.options.security.trustProxy),
    };
    try {
      if (fields.status >= 500) {
        // The cause's message is left out on purpose: an application error may quote a token.
        const cause = e?.cause ?? (e ? undefined : err);
        logger.error("throughline: server error", { ...fields, error: (cause as Error | undefined)?.name ?? typeof cause });
      } else if ([401, 403, 429].includes(fields.status)) {
        logger.warn("throughline: request refused", { ...fields, origin: originOf(req)?.slice(0, 128) });
      }
    } catch {
      // A broken logger must not break serving.
    }
  }

  /** A free-form warning (configuration problems), same channel as refusals. */
  warn(message: string, fields?: Record<string, unknown>): void {
    try {
      this.options.security.logger?.warn(message, fields);
    } catch {
      // ignored, as above
    }
  }

  // ---- internals ----

  #kind(route: "sse" | "poll" | "send", query: URLSearchParams): Kind {
    if (route === "send") return "send";
    if (route === "sse") return "connect";
    return this.polls.opens(query) ? "connect" : "continue";
  }

  #topics(query: URLSearchParams): string[] {
    return parseTopics(query.get(QUERY.topics), this.options.security.maxTopicsPerConnection);
  }

  #authenticate(req: Inbound): Principal | Promise<Principal> {
    const authenticate = this.options.security.authenticate;
    if (!authenticate) return ANONYMOUS;
    return bounded("authenticate", () => authenticate(req.native)).then(
      (value) => toPrincipal(value, this.options.clock.now()),
      (err: unknown) => {
        // A callback that timed out is our 500; anything the application threw is a refusal.
        if (err instanceof ThroughlineError && err.code === "TL_INTERNAL" && err.status === undefined) throw httpError("TL_INTERNAL", err.message.replace(/^Throughline: /, ""));
        throw unauthorized();
      },
    );
  }

  /** The first topic `authorize` refuses, or `undefined`. */
  #authorize(req: Inbound, principal: Principal, topics: readonly string[]): undefined | Promise<string | undefined> {
    const authorize = this.options.security.authorize;
    if (!authorize) return undefined;
    const decide = (t: string): unknown => {
      try {
        return authorize(principal.user, t, req.native);
      } catch {
        return false; // a throwing authorize refuses
      }
    };
    // Synchronous answers stay synchronous (no promise per topic); any thenable makes it async.
    const verdicts = (): boolean[] | Promise<boolean[]> => {
      const answers = topics.map(decide);
      if (!answers.some((a) => typeof (a as PromiseLike<unknown> | null)?.then === "function")) return answers.map((ok) => ok === true);
      return Promise.all(answers.map((a) => Promise.resolve(a).then((ok) => ok === true, () => false)));
    };
    return bounded("authorize", verdicts).then(
      (results) => topics[results.indexOf(false)],
      (err: unknown) => {
        throw httpError("TL_INTERNAL", (err as Error).message.replace(/^Throughline: /, ""));
      },
    );
  }

  /**
   * Session ownership, the poll rate, the connection slot; records the admission. The per-node
   * checks run first (synchronously); with a backplane the checks across nodes follow.
   */
  #admitted(req: Inbound, kind: Kind, query: URLSearchParams, principal: Principal, poll: boolean): void | Promise<void> {
    const param = query.get(QUERY.session);
    const session = param !== null && isSessionId(param) ? this.registry.sessions.get(param) : undefined;
    if (session) {
      const owner = this.#owners.get(session);
      // Another user's session is reported as unknown: its existence is not theirs to learn.
      if (owner !== undefined && owner !== principal.key) {
        throw httpError("TL_UNKNOWN_SESSION", "unknown or expired session: connect without `session` (keep your cursor) to start a new one.");
      }
    }
    const now = this.options.clock.now();
    const kept = session ? this.polls.kept?.(session) : undefined;
    if (session && kind !== "send" && kept !== undefined) {
      let rate = this.#pollRates.get(session);
      if (!rate) this.#pollRates.set(session, (rate = new PollRate(this.options.security.maxPollsPerSecond, now)));
      rate.take(now);
    }
    const address = clientAddress(req, this.options.security.trustProxy);
    let slot: Slot | undefined;
    if (kind === "connect") slot = this.limits.acquire(address, principal.key);
    if (kind === "continue" && kept) {
      // Each poll is authenticated anew: a refreshed token moves the connection's expiry.
      const entry = this.#bound.get(kept);
      if (entry) this.#arm(kept, entry, principal.expiresAt);
    }
    const shared = this.shared;
    if (!shared || (kind !== "connect" && !(poll && session))) {
      this.#admissions.set(req, { principal, slot, address });
      return;
    }
    // Every poll of a session counts, wherever it lands (round-robin spreads them over the nodes).
    const polled = poll && session ? shared.poll(session.id) : Promise.resolve();
    return polled
      .then(() => (kind === "connect" ? shared.connect(session?.id ?? SharedLimits.provisional(), address, principal.key) : undefined))
      .then(
        (sharedSlot) => void this.#admissions.set(req, { principal, slot, shared: sharedSlot, address }),
        (err: unknown) => {
          slot?.release();
          throw err;
        },
      );
  }

  #arm(conn: Connection, entry: { timer: unknown }, expiresAt: number | undefined): void {
    if (entry.timer !== undefined) this.registry.clearTimer(entry.timer);
    entry.timer = undefined;
    if (expiresAt === undefined || !Number.isFinite(expiresAt)) return;
    const delay = expiresAt - this.options.clock.now();
    entry.timer = this.registry.setTimer(() => {
      entry.timer = undefined;
      if (delay > MAX_TIMER_MS) this.#arm(conn, entry, expiresAt);
      else conn.close(CloseCode.AUTH_EXPIRED, "credentials expired: refresh them and reconnect");
    }, Math.max(0, Math.min(delay, MAX_TIMER_MS)));
  }
}

/** `Retry-After` for a refusal that has one (429). */
export function retryHeaders(err: unknown): Record<string, string> {
  const s = retryAfterOf(err);
  return s === undefined ? {} : { "retry-after": String(s) };
}
