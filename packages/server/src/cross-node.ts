/**
 * The hub on a backplane (issue #12): every node's messages reach this node's clients through the
 * backplane's ingest, in history order and once; the local replica (replica.ts) is filled only from
 * there, so `Hub.plan` keeps its synchronous subscribe + replay step. Sessions are written to the
 * shared store when created and read back on any node a later request of the session lands on.
 *
 * Why the ingest is the only way in, even for this node's own publishes: then every node sees one
 * order (the backplane's sequence), and a publish that was not stored is never delivered anywhere.
 */
import { CloseCode, LAST_EVENT_ID_HEADER, QUERY, ROUTES, ThroughlineError, formatId, httpError, isSessionId, parseId, parseTopics } from "@throughline/wire";
import { BACKFILL_HELD_MAX, BACKFILL_HOLD_MS, readBackfill } from "./backfill.js";
import type { Backplane, BackplaneGap, BackplaneMessage } from "./backplane.js";
import { Envelope } from "./envelope.js";
import type { Inbound } from "./exchange.js";
import type { Hub, PublishOptions } from "./hub.js";
import type { ResolvedOptions } from "./options.js";
import type { Registry } from "./registry.js";
import type { ReplicaStore } from "./replica.js";
import type { SessionImpl } from "./session.js";
import type { Principal } from "./auth.js";
import type { SharedLimits } from "./shared-limits.js";
import type { TicketStore } from "./tickets.js";

/**
 * How long a request whose cursor is ahead of this node's ingest (the client saw a message on a
 * faster node) waits for the ingest to catch up before it is planned as it stands.
 */
export const CURSOR_CATCH_UP_MS = 5_000;
/** Longest wait between start attempts while the backplane is unreachable. */
const START_RETRY_MAX_MS = 2_000;
/** Messages read per `since` page while the replica loads the retained history at start. */
const LOAD_PAGE = 1_000;

/** What the security gate shares across nodes: who owns a session (the principal's key), the tickets. */
export interface NodeSecurity {
  ownerOf(session: SessionImpl): string | undefined;
  adoptOwner(session: SessionImpl, key: string): void;
  readonly tickets: TicketStore;
  /** The limits across nodes: a redeemed ticket stops counting against its user. */
  readonly shared: SharedLimits | undefined;
}

/**
 * Whether the request may open a connection (and so plan a replay): an SSE stream, a WebSocket,
 * or a poll that does not continue this node's long-poll connection of its session.
 */
function plans(req: Inbound, query: URLSearchParams, local: SessionImpl | undefined): boolean {
  const path = req.url.split("?", 1)[0]!;
  if (path.endsWith(ROUTES.sse) || path.endsWith(ROUTES.websocket)) return true;
  if (!path.endsWith(ROUTES.poll)) return false;
  return query.get(QUERY.connect) === "1" || !local || !local.connections.some((c) => c.transport === "long-poll" && !c.closed);
}

type Pending = { kind: "message"; message: BackplaneMessage } | { kind: "gap"; gap: BackplaneGap };

export class CrossNode {
  /** Resolves once the ingest is positioned and the retained history is loaded. */
  readonly ready: Promise<void>;
  #loaded = false;
  #buffer: Pending[] = [];
  #unsubscribe: (() => void) | undefined;
  #closed = false;
  /** Why the last start attempt failed (requests are refused with 503 until one succeeds). */
  #startFailure: unknown;
  #waiters = new Set<{ seq: number; epoch: string; done: () => void }>();
  /** Timers dropping held backfills whose plan never came (cleared on close). */
  readonly #holds = new Set<unknown>();
  /** When this node last extended a session's shared record (ms, clock time). */
  readonly #touched = new WeakMap<SessionImpl, number>();

  constructor(
    private readonly backplane: Backplane,
    private readonly options: ResolvedOptions,
    private readonly hub: Hub,
    private readonly replica: ReplicaStore,
    private readonly registry: Registry,
    private readonly owners: NodeSecurity,
  ) {
    registry.onSession((session) => {
      // After the synchronous open that created it, so the gate has bound its owner.
      queueMicrotask(() => this.#share(session as SessionImpl));
    });
    this.ready = this.#startUntilUp();
  }

  /**
   * Starts, retrying while the backplane is unreachable (a node may start before Redis): `ready`
   * resolves once it is up; requests meanwhile are refused at once (#startFailure), not queued.
   */
  async #startUntilUp(): Promise<void> {
    for (let attempt = 0; !this.#closed; attempt++) {
      try {
        return await this.#start();
      } catch (err) {
        this.#unsubscribe?.();
        this.#unsubscribe = undefined;
        this.#buffer = [];
        this.#startFailure = err;
        await new Promise((resolve) => this.options.clock.setTimeout(() => resolve(undefined), Math.min(START_RETRY_MAX_MS, 100 * 2 ** attempt)));
      }
    }
  }

  async #start(): Promise<void> {
    const off = await this.backplane.subscribe({
      message: (message) => (this.#loaded ? this.#ingest(message) : this.#buffer.push({ kind: "message", message })),
      gap: (gap) => (this.#loaded ? this.#gap(gap) : this.#buffer.push({ kind: "gap", gap })),
    });
    if (this.#closed) return off();
    this.#unsubscribe = off;
    const head = await this.backplane.head();
    this.replica.reset(head.epoch, 0);
    let cursor = { epoch: head.epoch, seq: 0 };
    for (;;) {
      const read = await this.backplane.since(["*"], cursor, LOAD_PAGE);
      // Trimmed before this node started: it vouches only from where the retained history begins.
      if (read.gap && this.replica.seq === 0 && this.replica.floor === 0) this.replica.reset(read.gap.continueAfter.epoch, read.gap.continueAfter.seq);
      for (const m of read.messages) this.#ingest(m);
      const last = read.messages[read.messages.length - 1];
      if (!read.more || !last || last.seq >= head.seq) break;
      cursor = { epoch: last.epoch, seq: last.seq };
    }
    // Buffered while loading: what the load already covered is skipped by #ingest.
    for (const p of this.#buffer) p.kind === "message" ? this.#ingest(p.message) : this.#gap(p.gap);
    this.#buffer = [];
    this.#loaded = true;
    this.#startFailure = undefined;
  }

  /** One message of the shared history: numbered by the backplane, fanned out here. */
  #ingest(m: BackplaneMessage): void {
    if (m.epoch !== this.replica.epoch) this.#gap({ reason: "epoch", cursor: { epoch: this.replica.epoch, seq: this.replica.seq }, continueAfter: { epoch: m.epoch, seq: m.seq - 1 } });
    if (m.seq <= this.replica.seq) return; // already loaded or ingested
    this.hub.record(this.#envelope(m));
    this.#wake();
  }

  #envelope(m: BackplaneMessage): Envelope {
    return new Envelope(m.epoch, m.seq, m.topic, m.event, m.data === "" ? undefined : m.data, this.options.clock.now());
  }

  /**
   * The shared history no longer covers what this node delivered (a new epoch, or trimmed while
   * the ingest was away): the replica starts over where the history continues, and every local
   * connection is closed with 1001 so its client reconnects with its cursor and gets one gap at
   * exactly that point (`Hub.plan`), followed by everything after it.
   */
  #gap(gap: BackplaneGap): void {
    const at = gap.continueAfter;
    if (at.epoch === this.replica.epoch && at.seq <= this.replica.seq) return; // nothing this node missed
    this.replica.reset(at.epoch, at.seq);
    for (const conn of [...this.registry.connections]) conn.close(CloseCode.GOING_AWAY, "the shared history changed; resume");
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters) {
      if (w.epoch !== this.replica.epoch || this.replica.seq >= w.seq) {
        this.#waiters.delete(w);
        w.done();
      }
    }
  }

  /** Resolves when the ingest has reached `seq` of `epoch` (or the epoch moved on, or after CURSOR_CATCH_UP_MS). */
  #reach(epoch: string, seq: number): Promise<void> {
    return new Promise((resolve) => {
      const w = {
        epoch,
        seq,
        done: () => {
          this.options.clock.clearTimeout(timer);
          resolve();
        },
      };
      const timer = this.options.clock.setTimeout(() => {
        this.#waiters.delete(w);
        resolve();
      }, CURSOR_CATCH_UP_MS);
      this.#waiters.add(w);
    });
  }

  /**
   * Before a request is admitted: waits for the node to be ready, for its ingest to reach the
   * request's cursor (a client that read further on another node), and loads its session from the
   * shared store when this node does not know it; then backfills a resume older than the local
   * replica from the shared history (backfill.ts). Synchronous (`undefined`) when nothing is needed.
   */
  prepare(req: Inbound, query: URLSearchParams): Promise<void> | undefined {
    if (!this.#loaded) {
      if (this.#startFailure !== undefined) {
        throw httpError("TL_BACKPLANE_UNAVAILABLE", "this node cannot reach the shared history yet; retry shortly.");
      }
      return this.ready.then(() => this.prepare(req, query));
    }
    const waits: Promise<unknown>[] = [];
    const header = req.headers[LAST_EVENT_ID_HEADER];
    const raw = (typeof header === "string" && header) || query.get(QUERY.cursor) || query.get(QUERY.lastEventId) || "";
    const cursor = parseId(raw);
    if (cursor && cursor.epoch === this.replica.epoch && cursor.seq > this.replica.seq) waits.push(this.#catchUp(cursor));
    const id = query.get(QUERY.session);
    let adopted: string | undefined;
    if (id !== null && isSessionId(id)) {
      const local = this.registry.sessions.get(id);
      if (local) this.#keepShared(local);
      else waits.push(this.#adopt((adopted = id)));
    }
    const ticket = query.get(QUERY.ticket);
    if (ticket !== null) waits.push(this.#takeTicket(ticket));
    if (!plans(req, query, id === null ? undefined : this.registry.sessions.get(id))) return waits.length > 0 ? Promise.all(waits).then(() => undefined) : undefined;
    if (waits.length === 0) return this.#backfill(raw, undefined, query);
    return Promise.all(waits).then(() => this.#backfill(raw, adopted, query));
  }

  /**
   * A resume (the request's cursor, else the position of a session just adopted from the shared
   * store: a long-poll moving to this node) that the replica no longer covers: reads the stretch
   * from the backplane and holds it for the plan that follows (dropped after BACKFILL_HOLD_MS if
   * none comes). `undefined` when not needed.
   */
  #backfill(raw: string, adopted: string | undefined, query: URLSearchParams): Promise<void> | undefined {
    const session = raw === "" && adopted !== undefined ? this.registry.sessions.get(adopted) : undefined;
    const cursor = parseId(raw || session?.startCursor || "");
    if (!cursor || cursor.epoch !== this.replica.epoch || cursor.seq > this.replica.seq) return undefined;
    let topics: string[];
    try {
      topics = parseTopics(query.get(QUERY.topics));
    } catch {
      return undefined; // refused by the transport
    }
    if (this.replica.covers(topics, cursor.seq) || this.replica.held >= BACKFILL_HELD_MAX) return undefined;
    return readBackfill(this.backplane, this.replica, topics, cursor.seq, (m) => this.#envelope(m)).then((backfill) => {
      // Checked again here: reads run concurrently, the bound holds for what is kept.
      if (!backfill || this.#closed || this.replica.held + backfill.entries.length > BACKFILL_HELD_MAX) return;
      const drop = this.replica.hold(backfill);
      const timer = this.options.clock.setTimeout(() => {
        this.#holds.delete(timer);
        drop();
      }, BACKFILL_HOLD_MS);
      this.#holds.add(timer);
    });
  }

  /**
   * A cursor ahead of this node's ingest: either a faster node's (wait for the ingest), or beyond
   * the shared head because the history went backwards (restored from an older snapshot, failed
   * over to a lagging replica). The backplane's `since` decides: it starts a new epoch for a
   * rewind, which the ingest then brings here, so `Hub.plan` gives the client one `epoch` gap.
   * Reusing the seq numbers above the head instead would make the client drop the new messages as
   * duplicates of ones it had. An unproven cursor (`ahead`) is planned as it stands.
   */
  async #catchUp(cursor: { epoch: string; seq: number }): Promise<void> {
    try {
      const read = await this.backplane.since(["*"], cursor, 1);
      if (read.gap?.reason === "ahead") return;
    } catch {
      // Unreachable: wait for the ingest as far as it goes.
    }
    await this.#reach(cursor.epoch, cursor.seq);
  }

  /** A session another node created: a local one with its topics, owner and start position. */
  async #adopt(id: string): Promise<void> {
    let shared;
    try {
      shared = await this.backplane.sessions.get(id);
    } catch {
      return; // Store unreachable: the request goes on as unknown (404), the client starts anew and keeps its cursor.
    }
    if (!shared || this.registry.sessions.has(id) || this.registry.closed) return;
    const session = this.registry.adopt(id, shared.topics, shared.cursor ?? this.hub.head);
    if (shared.user !== null) this.owners.adoptOwner(session, shared.user);
    this.#touched.set(session, this.options.clock.now());
  }

  /**
   * Makes a ticket issued on this node redeemable on every node until it expires (before the
   * client gets it).
   * @throws ThroughlineError TL_BACKPLANE_UNAVAILABLE
   */
  async shareTicket(ticket: string, principal: Principal): Promise<void> {
    const expiresAt = this.owners.tickets.expiryOf(ticket) ?? this.options.clock.now();
    let user: unknown = principal.user;
    try {
      JSON.stringify(user);
    } catch {
      user = principal.key ?? null; // not JSON: other nodes see its key
    }
    const value = JSON.stringify({ user, key: principal.key ?? null, expiresAt, credentialsExpireAt: principal.expiresAt ?? null });
    await this.backplane.tickets.issue(ticket, value, Math.max(1, expiresAt - this.options.clock.now()));
  }

  /**
   * The single use of a ticket is taken from the shared store (atomic: one node wins), whichever
   * node issued it; the local ticket store then redeems it once (or refuses it).
   */
  async #takeTicket(ticket: string): Promise<void> {
    let value: string | undefined;
    try {
      value = await this.backplane.tickets.redeem(ticket);
    } catch {
      value = undefined; // unconfirmed: refused here (401), the client fetches a new ticket
    }
    if (value === undefined) return this.owners.tickets.discard(ticket);
    try {
      const t = JSON.parse(value) as { user: unknown; key: string | null; expiresAt: number; credentialsExpireAt: number | null };
      if (typeof t.key === "string") this.owners.shared?.ticketSpent(ticket, t.key);
      this.owners.tickets.adopt(ticket, { user: t.user ?? undefined, key: t.key ?? undefined, expiresAt: t.credentialsExpireAt ?? undefined }, t.expiresAt);
    } catch {
      this.owners.tickets.discard(ticket);
    }
  }

  #share(session: SessionImpl): void {
    if (session.ended || this.#closed) return;
    this.#touched.set(session, this.options.clock.now());
    const record = { user: this.owners.ownerOf(session) ?? null, topics: session.topics, cursor: session.startCursor };
    this.backplane.sessions.put(session.id, record, this.#ttl()).catch(() => {});
  }

  /** Extends the shared record of a session in use (at most every third of its TTL per node). */
  #keepShared(session: SessionImpl): void {
    const now = this.options.clock.now();
    if (now - (this.#touched.get(session) ?? -Infinity) < this.#ttl() / 3) return;
    this.#touched.set(session, now);
    this.backplane.sessions.touch(session.id, this.#ttl()).then(
      (known) => (known ? undefined : this.#share(session)),
      () => {},
    );
  }

  /** A shared record outlives the local session by a few TTLs: nodes where it is idle keep none. */
  #ttl(): number {
    return this.options.sessionTtlMs * 3;
  }

  /**
   * Appends to the shared history; resolves with the message id once stored. Local delivery
   * follows through the ingest like every other node's.
   * @throws ThroughlineError TL_BAD_TOPIC, TL_BAD_EVENT, TL_BAD_DATA, TL_MESSAGE_TOO_BIG (synchronously), TL_BACKPLANE_UNAVAILABLE, TL_CLOSED
   */
  async publish(topic: string, data: unknown, options?: PublishOptions): Promise<string> {
    const m = this.hub.prepare(topic, data, options);
    if (this.#closed) throw new ThroughlineError("TL_CLOSED", "the server is closed; publish on a running one.");
    const at = await this.backplane.append(m.topic, m.event, m.json ?? "");
    return formatId(at.epoch, at.seq);
  }

  /** Stops the ingest (the backplane itself is the application's to close). Idempotent. */
  close(): void {
    this.#closed = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const w of this.#waiters) w.done();
    this.#waiters.clear();
    for (const t of this.#holds) this.options.clock.clearTimeout(t);
    this.#holds.clear();
  }
}
