/**
 * Counters across nodes on Redis (issue #12.5): connection caps as leased slots in one sorted set
 * per key (member: holder, score: lease end on Redis's clock), rate limits as fixed windows.
 *
 * This node remembers what it holds (holder × key, counted) and renews those leases every third of
 * `leaseMs` in one script per chunk, whatever the number of connections. A node killed without
 * releasing stops renewing, and its slots free when their lease ends; a Redis that lost its data
 * gets the node's slots back with the next renewal; a failed release needs no retry (the lease
 * runs out).
 *
 * All limit keys share the hash tag `{l}`: the acquire script touches a user's and an address's
 * key at once, which Redis Cluster allows only within one slot.
 */
import type { Redis } from "ioredis";
import { ThroughlineError } from "@throughline/wire";
import type { CounterSlot, SharedCounters } from "./contract.js";
import type { Call } from "./stores.js";

/** Commands defined on the connection (Lua scripts, see scripts.ts); key counts come first. */
export interface CounterCommands {
  tlAcquire(numKeys: number, ...args: (string | number)[]): Promise<number>;
  tlRenew(numKeys: number, ...args: (string | number)[]): Promise<number>;
  tlHit(key: string, windowMs: number): Promise<number>;
}

const MAX_KEY = 512;
/** Leases renewed per script call: keeps each call short for Redis (it runs scripts one at a time). */
const RENEW_CHUNK = 500;

export function checkKey(what: string, key: string): string {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY) {
    throw new ThroughlineError("TL_BAD_REQUEST", `${what} must be a non-empty string of at most ${MAX_KEY} characters.`);
  }
  return key;
}

export function checkTtl(ttlMs: number): number {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new ThroughlineError("TL_INVALID_OPTION", `a ttl must be a positive integer of milliseconds (got ${String(ttlMs).slice(0, 40)}).`);
  return ttlMs;
}

/** The counters plus what the backplane drives: renewal (started on first hold) and stop on close. */
export interface RedisCounters extends SharedCounters {
  /** Renews every lease this node holds now (also what the timer runs). Rejects when Redis is away. */
  renew(): Promise<void>;
  /** Holders × keys this node holds (renewed). */
  readonly held: number;
  stop(): void;
}

export function sharedCounters(redis: Redis & CounterCommands, prefix: string, guard: Call, leaseMs: number): RedisCounters {
  const slotKey = (k: string) => `${prefix}{l}:c:${checkKey("a counter key", k)}`;
  /** Renewed leases this node holds: "holder\nkey" → how many of this node's connections hold it. */
  const held = new Map<string, { holder: string; key: string; n: number }>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let stopped = false;

  const write = async (pairs: ReadonlyArray<{ holder: string; key: string }>): Promise<void> => {
    for (let i = 0; i < pairs.length; i += RENEW_CHUNK) {
      const chunk = pairs.slice(i, i + RENEW_CHUNK);
      await guard("counter renew", () => redis.tlRenew(chunk.length, ...chunk.map((h) => h.key), leaseMs, ...chunk.map((h) => h.holder)));
    }
  };
  const renew = () => write([...held.values()]);
  const startRenewing = () => {
    if (timer || stopped) return;
    // A third of the lease: two renewals may fail (a Redis blip) before a live slot expires.
    timer = setInterval(() => {
      if (held.size === 0) {
        clearInterval(timer);
        timer = undefined;
        return;
      }
      renew().catch(() => {});
    }, Math.max(1, Math.floor(leaseMs / 3)));
    timer.unref();
  };
  const add = (holder: string, key: string) => {
    const id = `${holder}\n${key}`;
    const h = held.get(id);
    if (h) h.n++;
    else held.set(id, { holder, key, n: 1 });
    startRenewing();
  };

  return {
    get held() {
      return held.size;
    },
    renew,

    async acquire(holder: string, slots: readonly CounterSlot[], fixedLeaseMs?: number) {
      checkKey("a holder", holder);
      if (!Array.isArray(slots) || slots.length === 0) throw new ThroughlineError("TL_INVALID_OPTION", "acquire needs at least one slot.");
      for (const s of slots) {
        if (!Number.isSafeInteger(s?.limit) || s.limit < 0) throw new ThroughlineError("TL_INVALID_OPTION", "a counter limit must be a non-negative integer.");
      }
      const keys = slots.map((s) => slotKey(s.key));
      const lease = fixedLeaseMs === undefined ? leaseMs : checkTtl(fixedLeaseMs);
      const at = Number(await guard("counter acquire", () => redis.tlAcquire(keys.length, ...keys, holder, lease, ...slots.map((s) => s.limit))));
      if (at === -1 && fixedLeaseMs === undefined) for (const k of keys) add(holder, k);
      return at;
    },

    hold(holder, keys) {
      checkKey("a holder", holder);
      const pairs = keys.map((k) => ({ holder, key: slotKey(k) }));
      for (const p of pairs) add(p.holder, p.key);
      // Counted at once when Redis answers; otherwise the next renewal writes it.
      if (!stopped) write(pairs).catch(() => {});
    },

    release(holder, keys) {
      const gone: string[] = [];
      for (const k of keys) {
        const key = slotKey(k);
        const id = `${holder}\n${key}`;
        const h = held.get(id);
        if (h && --h.n > 0) continue;
        held.delete(id);
        gone.push(key);
      }
      if (gone.length === 0 || stopped) return;
      // Unreachable: nothing renews these any more, so their lease runs out.
      guard("counter release", () => Promise.all(gone.map((key) => redis.zrem(key, holder)))).catch(() => {});
    },

    hit: (k, windowMs) => guard("counter hit", async () => Number(await redis.tlHit(`${prefix}{r:${checkKey("a rate key", k)}}`, checkTtl(windowMs)))),

    stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
