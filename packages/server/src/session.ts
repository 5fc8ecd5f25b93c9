/**
 * Sessions: one logical client across reconnects and transport switches. A session lives while
 * it has an active connection (an open SSE or WebSocket, or a held long-poll) and expires
 * `sessionTtlMs` after its last one went away.
 */
import type { TransportName } from "@throughline/wire";
import type { Connection } from "./connection.js";

/** One logical client, as the application sees it. */
export interface Session {
  readonly id: string;
  /** Topics of its most recent connection (`["*"]`: all). */
  readonly topics: readonly string[];
  /** Transports of its current connections. */
  readonly transports: readonly TransportName[];
  /** The user `authenticate` returned for the request that opened it (`undefined` without `authenticate`). */
  readonly user: unknown;
  /** Server-initiated close of all its connections, ending the session. `code` @default 1000 */
  close(code?: number, reason?: string): void;
}

/** What a session needs from its owner (the registry). */
export interface SessionOwner {
  endSession(session: SessionImpl, code: number, reason: string, expired?: boolean): void;
  readonly ttlMs: number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** Shared by every session without a connection. */
const NO_CONNECTIONS: readonly Connection[] = Object.freeze([]);

export class SessionImpl implements Session {
  topics: readonly string[];
  /**
   * Its open connections. Copy-on-write: usually one or two, so a new exact-size array per
   * change costs less than a Set per session (~240 bytes each, for every idle stream), and
   * iterating it while connections come and go is safe.
   */
  connections: readonly Connection[] = NO_CONNECTIONS;
  /** Set by the security gate from the first admitted connection; every later one has the same owner. */
  user: unknown = undefined;
  ended = false;
  #active = 0;
  #ttlTimer: unknown;

  constructor(
    readonly id: string,
    topics: readonly string[],
    private readonly owner: SessionOwner,
    /** The hub's head when the session was created: where a connection without a cursor starts. */
    readonly startCursor: string,
  ) {
    this.topics = topics;
    // Born without an active connection until the first one is added (a first long-poll is
    // answered at once and never held), so the expiry clock starts now.
    this.#armTtl();
  }

  get transports(): readonly TransportName[] {
    return this.connections.map((c) => c.transport);
  }

  /** Adds a connection (once). */
  addConnection(conn: Connection): void {
    if (!this.connections.includes(conn)) this.connections = this.connections.concat(conn);
  }

  /** Removes a connection (idempotent). */
  removeConnection(conn: Connection): void {
    if (this.connections.includes(conn)) this.connections = this.connections.filter((c) => c !== conn);
  }

  close(code = 1000, reason = ""): void {
    if (!this.ended) this.owner.endSession(this, code, reason);
  }

  /** An open stream or a held poll keeps the session alive. */
  retain(): void {
    this.#active++;
    if (this.#ttlTimer !== undefined) {
      this.owner.clearTimer(this.#ttlTimer);
      this.#ttlTimer = undefined;
    }
  }

  release(): void {
    this.#active = Math.max(0, this.#active - 1);
    if (this.#active === 0) this.#armTtl();
  }

  /** Stops the expiry timer (the session ended). */
  dispose(): void {
    this.ended = true;
    if (this.#ttlTimer !== undefined) this.owner.clearTimer(this.#ttlTimer);
    this.#ttlTimer = undefined;
  }

  #armTtl(): void {
    if (this.ended) return;
    if (this.#ttlTimer !== undefined) this.owner.clearTimer(this.#ttlTimer);
    this.#ttlTimer = this.owner.setTimer(() => {
      this.#ttlTimer = undefined;
      if (this.#active === 0) this.owner.endSession(this, 1000, "session expired", true);
    }, this.owner.ttlMs);
  }
}
