/**
 * The registry: sessions, connections, the shared heartbeat ticker, application events, and
 * client→server frame dispatch. Transports call it to open and end connections; it knows them
 * only as `Connection`s (each transport keeps its own connection state, see transport.ts).
 *
 * Sessions are created or joined in one place, `resolveSession`, from the first request's
 * `session` parameter.
 */
import { setImmediate } from "node:timers";
import { MIN_PROPOSED_SESSION_CHARS, httpError, isSessionId, newSessionId, type ClientFrame } from "@throughline/wire";
import type { Connection } from "./connection.js";
import { Heartbeat } from "./heartbeat.js";
import type { Hub } from "./hub.js";
import type { ResolvedOptions } from "./options.js";
import { SessionImpl, type Session, type SessionOwner } from "./session.js";

/** Told when connections come and go (the security gate: limit slots, credential expiry). */
export interface ConnectionGuard {
  bind(conn: Connection): void;
  unbind(conn: Connection): void;
}

/** Receives a client→server message, its session and the session's authenticated user (`undefined` without `authenticate`). */
export type MessageListener = (data: unknown, session: Session, user: unknown) => void | Promise<void>;
type SessionListener = (session: Session) => void;

/** Calls an application callback; its exceptions and rejections never reach the server. */
function safeCall(fn: () => unknown): void {
  try {
    const r = fn();
    if (r && typeof (r as Promise<unknown>).then === "function") (r as Promise<unknown>).then(undefined, () => {});
  } catch {
    // Application errors are the application's to log; the server logs nothing by default.
  }
}

/**
 * Streaming connections one heartbeat tick writes to per turn of the event loop (a heartbeat and
 * a ping each). A tick reaches every connection at once; over thousands, one synchronous loop
 * would hold every delivery published meanwhile behind all of its writes (≈ 8 µs each), so
 * beyond this many the rest follow in later turns, with deliveries and I/O in between.
 */
export const HEARTBEAT_SLICE = 256;

export class Registry implements SessionOwner {
  readonly sessions = new Map<string, SessionImpl>();
  readonly connections = new Set<Connection>();
  /** SSE and WebSocket connections: they get ticker heartbeats and keep their session alive. */
  readonly #streaming = new Set<Connection>();
  readonly #messageListeners = new Set<MessageListener>();
  readonly #sessionListeners = new Set<SessionListener>();
  readonly #sessionEndListeners = new Set<SessionListener>();
  #ticker: unknown;
  closed = false;
  /** Set by the server once its security gate exists. */
  guard: ConnectionGuard | undefined;

  constructor(
    readonly options: ResolvedOptions,
    readonly hub: Hub,
  ) {
    if (options.onMessage) this.#messageListeners.add(options.onMessage);
    this.#scheduleTick();
  }

  get ttlMs(): number {
    return this.options.sessionTtlMs;
  }

  setTimer(fn: () => void, ms: number): unknown {
    return this.options.clock.setTimeout(fn, ms);
  }

  clearTimer(handle: unknown): void {
    this.options.clock.clearTimeout(handle);
  }

  // ---- events ----

  onMessage(fn: MessageListener): () => void {
    this.#messageListeners.add(fn);
    return () => this.#messageListeners.delete(fn);
  }

  onSession(fn: SessionListener): () => void {
    this.#sessionListeners.add(fn);
    return () => this.#sessionListeners.delete(fn);
  }

  onSessionEnd(fn: SessionListener): () => void {
    this.#sessionEndListeners.add(fn);
    return () => this.#sessionEndListeners.delete(fn);
  }

  // ---- sessions ----

  /**
   * The session a connection joins: a new one without `param`, the existing one with it. With
   * `propose` (QUERY.propose), an unknown `param` of at least MIN_PROPOSED_SESSION_CHARS is the
   * client's proposal for its new session: it is created under that id (the security gate has
   * already refused a proposal that names another user's session, and binds a new one to its user).
   * @throws ThroughlineError TL_UNKNOWN_SESSION (404) for an unknown, expired or malformed id
   */
  resolveSession(param: string | null, topics: readonly string[], propose = false): SessionImpl {
    const known = param !== null && isSessionId(param) ? this.sessions.get(param) : undefined;
    if (known) {
      known.topics = topics;
      return known;
    }
    const proposal = propose && param !== null && isSessionId(param) && param.length >= MIN_PROPOSED_SESSION_CHARS;
    if (param !== null && !proposal) throw httpError("TL_UNKNOWN_SESSION", "unknown or expired session: connect without `session` (keep your cursor) to start a new one.");
    // The history position at the first request of the round: a later attempt without a cursor
    // starts here, so what was published while the round negotiated is delivered (issue #10).
    const session = new SessionImpl(proposal ? param! : newSessionId(), topics, this, this.hub.head);
    this.sessions.set(session.id, session);
    for (const fn of this.#sessionListeners) safeCall(() => fn(session));
    return session;
  }

  /**
   * A session another node created (the shared session store, cross-node.ts): known here from now
   * on under its id, starting where it started there. No `session` event (it is not new).
   */
  adopt(id: string, topics: readonly string[], startCursor: string): SessionImpl {
    const session = new SessionImpl(id, topics, this, startCursor);
    this.sessions.set(id, session);
    return session;
  }

  endSession(session: SessionImpl, code: number, reason: string, expired = false): void {
    if (session.ended) return;
    // Connections a transport keeps between requests (long-poll) end too, even between polls.
    const kept = this.keptOf(session).filter((c) => !session.connections.includes(c));
    session.dispose();
    this.sessions.delete(session.id);
    for (const conn of [...kept, ...session.connections]) {
      if (conn.end) conn.end(code, reason, expired);
      else conn.close(code, reason);
    }
    for (const fn of this.#sessionEndListeners) safeCall(() => fn(session));
  }

  /** Set by the server: the connections transports keep for a session between requests. */
  keptOf: (session: SessionImpl) => Connection[] = () => [];

  // ---- connections ----

  /** Registers and subscribes a connection; call in the same synchronous step as its replay. */
  addConnection(conn: Connection, streaming: boolean): void {
    this.connections.add(conn);
    conn.session.addConnection(conn);
    this.guard?.bind(conn);
    this.hub.subscribe(conn);
    if (streaming) {
      this.#streaming.add(conn);
      conn.session.retain();
    }
  }

  /** Forgets a connection (idempotent). */
  removeConnection(conn: Connection): void {
    if (!this.connections.delete(conn)) return;
    this.guard?.unbind(conn);
    conn.session.removeConnection(conn);
    this.hub.unsubscribe(conn);
    if (this.#streaming.delete(conn)) conn.session.release();
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  // ---- client→server frames ----

  /**
   * Handles decoded client frames: `message` → application listeners; `heartbeat` only proves
   * liveness (the caller noted it); `probe` is for the transport negotiator (ignored in v1);
   * `close` ends the session, its connections get close 1000.
   */
  dispatch(frames: readonly ClientFrame[], session: SessionImpl): void {
    for (const frame of frames) {
      if (frame.type === "message") {
        for (const fn of this.#messageListeners) safeCall(() => fn(frame.data, session, session.user));
      } else if (frame.type === "close") {
        this.endSession(session, 1000, typeof frame.reason === "string" ? frame.reason.slice(0, 120) : "");
        return;
      }
    }
  }

  // ---- heartbeat ticker ----

  #scheduleTick(): void {
    if (this.closed) return;
    this.#ticker = this.setTimer(() => {
      this.#ticker = undefined;
      const now = this.options.clock.now();
      const beat = new Heartbeat(now);
      if (this.#streaming.size <= HEARTBEAT_SLICE) for (const conn of this.#streaming) conn.heartbeat(beat);
      else this.#beatSlices(beat, [...this.#streaming], 0);
      // Idle topics free their aged entries even when nobody publishes or resumes.
      this.hub.history.prune();
      this.#scheduleTick();
    }, this.options.heartbeatMs);
  }

  /**
   * One tick over many connections, HEARTBEAT_SLICE per turn of the event loop (`conns`: the
   * streaming connections when the tick fired; those gone since are skipped, those added since
   * get the next tick).
   */
  #beatSlices(beat: Heartbeat, conns: Connection[], from: number): void {
    if (this.closed) return;
    const end = Math.min(conns.length, from + HEARTBEAT_SLICE);
    for (let i = from; i < end; i++) {
      const conn = conns[i]!;
      if (from === 0 || this.#streaming.has(conn)) conn.heartbeat(beat);
    }
    if (end < conns.length) setImmediate(() => this.#beatSlices(beat, conns, end));
  }

  /** Stops timers; the caller closes connections. */
  stop(): void {
    this.closed = true;
    if (this.#ticker !== undefined) this.clearTimer(this.#ticker);
    this.#ticker = undefined;
  }
}
