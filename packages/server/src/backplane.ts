/**
 * The backplane contract: what a hub needs so that several processes ("nodes") behave as one
 * (issue #12), given as `createServer({ backplane })`. `@throughline/redis` implements it on
 * Redis; without one the server keeps its single-process memory history (see cross-node.ts).
 *
 * The model: one shared, ordered history across every topic. Each appended message gets the next
 * sequence number of the current epoch. Every node ingests every message (its own included) in
 * that order through `subscribe`, and fans out to its local clients only from there, so a message
 * reaches each node's clients once, in the same order on every node. A client's cursor is a
 * position (epoch, seq); resuming on any node reads the history after it with `since`.
 *
 * Epochs: the history is only trusted to move forwards. Whenever it may have gone backwards or been
 * lost (the store lost its data, was restored from an older snapshot, failed over to a lagging
 * replica), the backplane starts a new epoch: positions of older epochs are no longer covered,
 * and their holders get one gap at their cursor instead of a silent loss.
 *
 * Errors: operations that need the store reject with a `ThroughlineError` whose code is
 * `TL_BACKPLANE_UNAVAILABLE` when it is unreachable or does not answer in time (the operation is
 * then not confirmed), `TL_INVALID_OPTION` / `TL_BAD_TOPIC` / `TL_BAD_EVENT` for bad arguments,
 * and `TL_CLOSED` after `close()`.
 */

/** A point in the shared history: the message with this sequence number in this epoch. */
export interface BackplanePosition {
  /** Names one run of the shared history (`[a-z0-9]{1,16}`, as in wire ids). */
  readonly epoch: string;
  /** 1 for the first message of an epoch; 0 means "before the first". */
  readonly seq: number;
}

/** One message of the shared history. */
export interface BackplaneMessage extends BackplanePosition {
  readonly topic: string;
  readonly event: string;
  /** The payload as the publishing hub serialized it (JSON text), returned byte for byte. */
  readonly data: string;
}

/**
 * Why the history no longer covers a position: `evicted` (older than the retained history),
 * `epoch` (the position belongs to another epoch) or `ahead` (a client's cursor beyond the head
 * that the implementation does not take as proof of a rewind, e.g. one it considers forged; that
 * client continues after the head). The hub maps `ahead` to wire's `invalid-cursor`, the others
 * keep their wire names.
 */
export type BackplaneGapReason = "evicted" | "epoch" | "ahead";

/** Where history stops covering a cursor: everything after `cursor` up to `continueAfter` is lost. */
export interface BackplaneGap {
  readonly reason: BackplaneGapReason;
  /** The position whose successors are missing (the cursor given, or the last ingested message). */
  readonly cursor: BackplanePosition;
  /** The stream continues after this position: the next message delivered has `seq > continueAfter.seq`. */
  readonly continueAfter: BackplanePosition;
}

/** Answer of `since`. */
export interface HistoryRead {
  /** Retained messages of the requested topics after the cursor (or after `gap.continueAfter`), in order. */
  readonly messages: readonly BackplaneMessage[];
  /** Present when the history does not cover the cursor: the one gap, before `messages`. */
  readonly gap: BackplaneGap | undefined;
  /** The newest position of the history when it was read. */
  readonly head: BackplanePosition;
  /** `true` when `limit` cut the answer: read again from the last message's position. */
  readonly more: boolean;
}

/** What a node's ingest reports; called synchronously, in history order. */
export interface BackplaneListener {
  /** Every message of every node, once, in sequence order (own appends included). */
  message(message: BackplaneMessage): void;
  /**
   * The history no longer covers what this node has ingested: a new epoch (data lost, restored,
   * failed over), or more was trimmed than this node could read while it was away. Messages
   * after `gap.continueAfter` follow through `message`.
   */
  gap(gap: BackplaneGap): void;
  /** The store became unreachable (`false`) or reachable again (`true`). Optional. */
  availability?(available: boolean): void;
}

/** A session as every node needs to see it (issue #12: every request may land on another node). */
export interface SharedSession {
  readonly user: string | null;
  readonly topics: readonly string[];
  /** The session's cursor (a wire id), e.g. a long-poll's position between polls. */
  readonly cursor: string | null;
}

/** Sessions shared across nodes; every record expires `ttlMs` after its last `put`/`touch`. */
export interface SessionStore {
  get(id: string): Promise<SharedSession | undefined>;
  put(id: string, session: SharedSession, ttlMs: number): Promise<void>;
  /** Extends the expiry; `false` if the session is unknown or expired. */
  touch(id: string, ttlMs: number): Promise<boolean>;
  delete(id: string): Promise<void>;
}

/** Single-use tickets across nodes: `redeem` succeeds once, on one node, before expiry. */
export interface TicketStore {
  /** Stores a ticket's value; `false` if the ticket already exists (never overwrites). */
  issue(ticket: string, value: string, ttlMs: number): Promise<boolean>;
  /** The value, removed atomically; `undefined` if unknown, expired or already redeemed. */
  redeem(ticket: string): Promise<string | undefined>;
}

/** One key of `SharedCounters.acquire`: at most `limit` holders at once. */
export interface CounterSlot {
  readonly key: string;
  readonly limit: number;
}

/**
 * Counters across nodes (issue #12.5): connection caps as leased slots, rate limits as windows.
 * A slot of a key is taken by a `holder` (the server uses session ids, so one client counts once
 * however many nodes hold a piece of it). Slots are leases: the backplane (one per node) renews
 * the ones it holds, so a node that dies without releasing (SIGKILL) frees its slots when the
 * lease runs out.
 */
export interface SharedCounters {
  /**
   * Takes a slot of every key for `holder`, all or none, atomically (a holder already present on
   * a key keeps its slot). Resolves with -1 when taken, else the index in `slots` of the first key
   * at its limit. `leaseMs` given: a fixed lease, never renewed (e.g. a ticket until it expires);
   * omitted: a lease this node renews until `release`.
   */
  acquire(holder: string, slots: readonly CounterSlot[], leaseMs?: number): Promise<number>;
  /**
   * Holds slots without checking limits (taken while the store was unreachable, or a connection
   * that had to be counted anyway): written at once when the store answers, else with the next
   * renewal. Never rejects.
   */
  hold(holder: string, keys: readonly string[]): void;
  /**
   * Gives back this node's hold of `holder` on `keys` (a fixed lease is removed outright).
   * Best effort, never rejects: if the store is unreachable, the lease runs out instead.
   */
  release(holder: string, keys: readonly string[]): void;
  /** Counts one event of `key` in the current `windowMs` window (every node's); resolves with the count so far. */
  hit(key: string, windowMs: number): Promise<number>;
}

/** The backplane a hub is given (`createServer({ backplane })`). */
export interface Backplane {
  /**
   * Appends a message to the shared history; resolves with its position once the message is in
   * the history (and so will be ingested by every node), rejects with `TL_BACKPLANE_UNAVAILABLE`
   * otherwise. Never fan out locally from here: the message also arrives through `subscribe`.
   */
  append(topic: string, event: string, data: string): Promise<BackplanePosition>;
  /**
   * Reads the history of `topics` (`["*"]`: all) after `cursor`, for a resuming client, at most
   * `limit` messages. A cursor of another epoch, behind the retained history or ahead of the head
   * yields a `gap`. A cursor ahead of the head means the history went backwards (or a forged
   * cursor): the implementation starts a new epoch when this node saw that far itself, and may on
   * the client's word too (the Redis one does, rate-limited); otherwise it answers `ahead`.
   */
  since(topics: readonly string[], cursor: BackplanePosition, limit?: number): Promise<HistoryRead>;
  /** The current head (epoch and newest seq), starting a new epoch if the history was lost. */
  head(): Promise<BackplanePosition>;
  /**
   * Starts ingesting every message appended after the current head, in order, and resolves once
   * the node is positioned (so a message appended after that resolves is delivered). Unsubscribe
   * with the returned function. One ingest per backplane; each listener gets every message.
   */
  subscribe(listener: BackplaneListener): Promise<() => void>;
  readonly sessions: SessionStore;
  readonly tickets: TicketStore;
  readonly counters: SharedCounters;
  /** Stops ingesting and closes connections; pending operations reject with `TL_CLOSED`. Idempotent. */
  close(): Promise<void>;
}
