/**
 * Resource limits: connections in total, per client address and per user, and the long-poll
 * request rate per session. Each refusal is 429 TL_RATE_LIMITED with `Retry-After`, so clients
 * back off instead of retrying at once.
 */
import type { Inbound } from "./exchange.js";
import { isIP } from "node:net";
import { httpError, type ThroughlineError } from "@throughline/wire";

/** `Retry-After` (seconds) of a connection-limit refusal: long enough for a crowd to spread out. */
export const CONNECTION_RETRY_AFTER_S = 5;
/** `Retry-After` (seconds) of a long-poll rate refusal: the rate is per second. */
export const POLL_RETRY_AFTER_S = 1;

/** A 429 with the seconds to put in `Retry-After`. */
export interface RateLimitError extends ThroughlineError {
  readonly retryAfterSeconds: number;
}

export function rateLimited(message: string, retryAfterSeconds: number): RateLimitError {
  return Object.assign(httpError("TL_RATE_LIMITED", message), { retryAfterSeconds });
}

export function retryAfterOf(err: unknown): number | undefined {
  const s = (err as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
  return typeof s === "number" ? s : undefined;
}

/**
 * The client address for per-address limits: the socket's peer, or with `trustProxy` the
 * left-most valid address of `X-Forwarded-For` (set `trustProxy` only behind a proxy that
 * overwrites the header, or clients choose their own address).
 */
export function clientAddress(req: Pick<Inbound, "method" | "headers" | "remoteAddress">, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = req.headers["x-forwarded-for"];
    const first = (typeof xff === "string" ? xff : undefined)?.split(",")[0]?.trim();
    if (first && isIP(first)) return first;
  }
  return req.remoteAddress ?? "unknown";
}

/** Limits of `ConnectionLimits`. */
export interface ConnectionLimitConfig {
  readonly total: number;
  readonly perAddress: number;
  readonly perUser: number;
}

/** A held place in the counts; `release()` is idempotent. */
export interface Slot {
  release(): void;
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}

/** Counts open connections; maps only hold keys with a live connection, so they stay bounded. */
export class ConnectionLimits {
  #total = 0;
  readonly #byAddress = new Map<string, number>();
  readonly #byUser = new Map<string, number>();

  constructor(private readonly config: ConnectionLimitConfig) {}

  get total(): number {
    return this.#total;
  }

  #check(address: string, user: string | undefined): void {
    const { total, perAddress, perUser } = this.config;
    if (this.#total >= total) throw rateLimited(`the server is at its connection limit (${total}); retry later.`, CONNECTION_RETRY_AFTER_S);
    if ((this.#byAddress.get(address) ?? 0) >= perAddress) {
      throw rateLimited(`too many connections from this address (limit ${perAddress}); close some or retry later.`, CONNECTION_RETRY_AFTER_S);
    }
    if (user !== undefined && (this.#byUser.get(user) ?? 0) >= perUser) {
      throw rateLimited(`too many connections for this user (limit ${perUser}); close some or retry later.`, CONNECTION_RETRY_AFTER_S);
    }
  }

  /**
   * Takes a place for one more connection. `force`: count it even past the limits (a connection
   * that is already opening), so the counts stay true.
   * @throws ThroughlineError TL_RATE_LIMITED (429, with retryAfterSeconds)
   */
  acquire(address: string, user: string | undefined, force = false): Slot {
    if (!force) this.#check(address, user);
    this.#total++;
    bump(this.#byAddress, address, 1);
    if (user !== undefined) bump(this.#byUser, user, 1);
    return new HeldSlot(this, address, user);
  }

  /** @internal Gives back what `acquire` took (called once per slot). */
  giveBack(address: string, user: string | undefined): void {
    this.#total--;
    bump(this.#byAddress, address, -1);
    if (user !== undefined) bump(this.#byUser, user, -1);
  }
}

/** A place taken by `acquire`: one small object per connection, no closures. */
class HeldSlot implements Slot {
  #limits: ConnectionLimits | undefined;

  constructor(
    limits: ConnectionLimits,
    private readonly address: string,
    private readonly user: string | undefined,
  ) {
    this.#limits = limits;
  }

  release(): void {
    const limits = this.#limits;
    if (limits === undefined) return;
    this.#limits = undefined;
    limits.giveBack(this.address, this.user);
  }
}

/**
 * Long-poll requests per session per second: a token bucket holding one second's worth, so a
 * burst (answer, immediate re-poll) passes and a sustained flood is refused.
 */
export class PollRate {
  #tokens: number;
  #at: number;

  constructor(
    private readonly perSecond: number,
    now: number,
  ) {
    this.#tokens = perSecond;
    this.#at = now;
  }

  /** @throws ThroughlineError TL_RATE_LIMITED (429) when the session polls too often */
  take(now: number): void {
    this.#tokens = Math.min(this.perSecond, this.#tokens + ((now - this.#at) / 1000) * this.perSecond);
    this.#at = now;
    if (this.#tokens < 1) {
      throw rateLimited(`too many long-poll requests for this session (limit ${this.perSecond} per second).`, POLL_RETRY_AFTER_S);
    }
    this.#tokens -= 1;
  }
}
