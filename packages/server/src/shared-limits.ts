/**
 * Limits across nodes (issue #12.5), on the backplane's counters: connections per user and per
 * address, outstanding tickets per user and long-poll requests per session hold for the whole
 * cluster, not per process. The per-node limits (limits.ts, tickets.ts) still run first with the
 * same numbers: they are the fallback while the store is unreachable, and `maxConnections` (a
 * process's memory and sockets) stays per node on purpose.
 *
 * A connection's slot is held by its session id, so one client counts once however many nodes hold
 * a piece of it (a round-robin long-poll session keeps a connection on each node it polled).
 *
 * When the store is unreachable or slow (no answer within SHARED_LIMIT_WAIT_MS):
 * - connection caps and the poll rate fail open: the per-node limits alone apply, and the
 *   connection's slot is written to the store once it is back (a notification service would
 *   rather serve than refuse everyone because Redis restarts);
 * - tickets fail closed: a ticket cannot be redeemed on another node without the store anyway.
 */
import { createHash, randomBytes } from "node:crypto";
import { ThroughlineError, httpError } from "@throughline/wire";
import type { SharedCounters } from "./backplane.js";
import { safetyTimer } from "./clock.js";
import { CONNECTION_RETRY_AFTER_S, POLL_RETRY_AFTER_S, rateLimited } from "./limits.js";

/** Longest wait for the store on a limit check; past it the check counts as unreachable. */
export const SHARED_LIMIT_WAIT_MS = 2_000;
/** The poll-rate window (the limit is per second). */
const POLL_WINDOW_MS = 1_000;

/** The numbers of `SharedLimits` (the security options). */
export interface SharedLimitConfig {
  readonly perAddress: number;
  readonly perUser: number;
  readonly pollsPerSecond: number;
  readonly ticketsPerUser: number;
}

/** Keys stay short whatever a user key looks like (the store bounds key length). */
function keyOf(kind: string, value: string): string {
  return value.length <= 128 ? `${kind}:${value}` : `${kind}#${createHash("sha256").update(value).digest("base64url")}`;
}

/** A connection's place in the shared counts; `release()` is idempotent. */
export class SharedSlot {
  #released = false;

  constructor(
    private readonly counters: SharedCounters,
    public holder: string,
    readonly keys: readonly string[],
  ) {}

  /** Moves the slot to the session that was created for it (it was taken before the session existed). */
  moveTo(holder: string): void {
    if (this.#released || holder === this.holder) return;
    this.counters.hold(holder, this.keys);
    this.counters.release(this.holder, this.keys);
    this.holder = holder;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.counters.release(this.holder, this.keys);
  }
}

export class SharedLimits {
  constructor(
    private readonly counters: SharedCounters,
    private readonly config: SharedLimitConfig,
  ) {}

  /** A holder for a connection whose session does not exist yet (`SharedSlot.moveTo` renames it). */
  static provisional(): string {
    return `new:${randomBytes(12).toString("base64url")}`;
  }

  #keys(address: string, user: string | undefined): string[] {
    return user === undefined ? [keyOf("a", address)] : [keyOf("a", address), keyOf("u", user)];
  }

  /**
   * Resolves with the store's answer, or rejects when it gives none within SHARED_LIMIT_WAIT_MS
   * (a real timer: it guards I/O, not protocol timing, so a fake clock cannot stall it).
   */
  #bounded<T>(op: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = safetyTimer(() => reject(new ThroughlineError("TL_BACKPLANE_UNAVAILABLE", "the shared limits did not answer in time.")), SHARED_LIMIT_WAIT_MS);
      let started: Promise<T>;
      try {
        started = op();
      } catch (err) {
        started = Promise.reject(err);
      }
      started.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  /**
   * Takes `holder`'s slot for its address and user across nodes (fail-open, see the file comment).
   * @throws ThroughlineError TL_RATE_LIMITED (429, retryAfterSeconds) when a cap is reached
   */
  async connect(holder: string, address: string, user: string | undefined): Promise<SharedSlot> {
    const keys = this.#keys(address, user);
    const limits = [this.config.perAddress, this.config.perUser];
    let at: number;
    try {
      at = await this.#bounded(() => this.counters.acquire(holder, keys.map((key, i) => ({ key, limit: limits[i]! }))));
    } catch {
      this.counters.hold(holder, keys);
      return new SharedSlot(this.counters, holder, keys);
    }
    if (at === 0) throw rateLimited(`too many connections from this address across the cluster (limit ${this.config.perAddress}); close some or retry later.`, CONNECTION_RETRY_AFTER_S);
    if (at !== -1) throw rateLimited(`too many connections for this user across the cluster (limit ${this.config.perUser}); close some or retry later.`, CONNECTION_RETRY_AFTER_S);
    return new SharedSlot(this.counters, holder, keys);
  }

  /** Counts a connection that is opening anyway (see `Security.bind`), without checking the caps. */
  hold(holder: string, address: string, user: string | undefined): SharedSlot {
    const keys = this.#keys(address, user);
    this.counters.hold(holder, keys);
    return new SharedSlot(this.counters, holder, keys);
  }

  /**
   * One long-poll request of `session`, on any node (fail-open).
   * @throws ThroughlineError TL_RATE_LIMITED (429) past `pollsPerSecond` in the current second
   */
  async poll(session: string): Promise<void> {
    let count: number;
    try {
      count = await this.#bounded(() => this.counters.hit(keyOf("p", session), POLL_WINDOW_MS));
    } catch {
      return;
    }
    if (count > this.config.pollsPerSecond) {
      throw rateLimited(`too many long-poll requests for this session across the cluster (limit ${this.config.pollsPerSecond} per second).`, POLL_RETRY_AFTER_S);
    }
  }

  /**
   * Counts an outstanding ticket of `user` until it is redeemed or expires (fail-closed).
   * @throws ThroughlineError TL_RATE_LIMITED (429), TL_BACKPLANE_UNAVAILABLE (503)
   */
  async ticket(ticket: string, user: string, ttlMs: number): Promise<void> {
    let at: number;
    try {
      at = await this.#bounded(() => this.counters.acquire(ticket, [{ key: keyOf("t", user), limit: this.config.ticketsPerUser }], Math.max(1, Math.ceil(ttlMs))));
    } catch (err) {
      if (err instanceof ThroughlineError && err.code === "TL_BACKPLANE_UNAVAILABLE") throw httpError("TL_BACKPLANE_UNAVAILABLE", "tickets need the shared store, which is unreachable; retry shortly.");
      throw err;
    }
    if (at !== -1) throw rateLimited("too many outstanding tickets for this user across the cluster; retry shortly.", 1);
  }

  /** A ticket was redeemed (or discarded): it no longer counts. */
  ticketSpent(ticket: string, user: string): void {
    this.counters.release(ticket, [keyOf("t", user)]);
  }
}
