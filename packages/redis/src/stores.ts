/**
 * The shared state other nodes need besides the history: sessions, single-use tickets and
 * counters (connection caps, rate limits), each a few Redis commands on the command connection.
 */
import type { Redis } from "ioredis";
import { ThroughlineError } from "@throughline/wire";
import type { SessionStore, SharedCounters, SharedSession, TicketStore } from "./contract.js";

/** Runs `op` once the connection is ready, mapping failures to `TL_BACKPLANE_UNAVAILABLE` (backplane.ts). */
export type Call = <T>(what: string, op: () => Promise<T>) => Promise<T>;

/** Extra commands defined on the connection (Lua scripts, see scripts.ts). */
export interface ScriptCommands {
  tlAcquire(key: string, holder: string, limit: number, ttlMs: number): Promise<number>;
  tlHit(key: string, windowMs: number): Promise<number>;
}

const MAX_KEY = 512;

function checkKey(what: string, key: string): string {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY) {
    throw new ThroughlineError("TL_BAD_REQUEST", `${what} must be a non-empty string of at most ${MAX_KEY} characters.`);
  }
  return key;
}

function checkTtl(ttlMs: number): number {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new ThroughlineError("TL_INVALID_OPTION", `a ttl must be a positive integer of milliseconds (got ${String(ttlMs).slice(0, 40)}).`);
  return ttlMs;
}

function parseSession(text: string | null): SharedSession | undefined {
  if (text === null) return undefined;
  try {
    const v = JSON.parse(text) as SharedSession;
    if (v && typeof v === "object" && Array.isArray(v.topics)) return { user: v.user ?? null, topics: v.topics, cursor: v.cursor ?? null };
  } catch {
    // A record another program wrote under our prefix: treat as unknown.
  }
  return undefined;
}

export function sessionStore(redis: Redis, prefix: string, guard: Call): SessionStore {
  const key = (id: string) => `${prefix}s:${checkKey("a session id", id)}`;
  return {
    get: (id) => guard("session get", async () => parseSession(await redis.get(key(id)))),
    put: (id, session, ttlMs) =>
      guard("session put", async () => {
        const record: SharedSession = { user: session.user, topics: [...session.topics], cursor: session.cursor };
        await redis.set(key(id), JSON.stringify(record), "PX", checkTtl(ttlMs));
      }),
    touch: (id, ttlMs) => guard("session touch", async () => (await redis.pexpire(key(id), checkTtl(ttlMs))) === 1),
    delete: (id) =>
      guard("session delete", async () => {
        await redis.del(key(id));
      }),
  };
}

export function ticketStore(redis: Redis, prefix: string, guard: Call): TicketStore {
  const key = (ticket: string) => `${prefix}t:${checkKey("a ticket", ticket)}`;
  return {
    // SET NX: a ticket is never overwritten, so a guessed or replayed ticket cannot be re-armed.
    issue: (ticket, value, ttlMs) => guard("ticket issue", async () => (await redis.set(key(ticket), value, "PX", checkTtl(ttlMs), "NX")) === "OK"),
    // GETDEL is atomic: of two nodes redeeming at once, exactly one gets the value.
    redeem: (ticket) => guard("ticket redeem", async () => (await redis.getdel(key(ticket))) ?? undefined),
  };
}

export function sharedCounters(redis: Redis & ScriptCommands, prefix: string, guard: Call): SharedCounters {
  // The braces make each counter one Redis Cluster slot, including the window keys HIT_LUA derives.
  const slots = (k: string) => `${prefix}{c:${checkKey("a counter key", k)}}`;
  return {
    acquire: (k, holder, limit, ttlMs) =>
      guard("counter acquire", async () => {
        if (!Number.isSafeInteger(limit) || limit < 0) throw new ThroughlineError("TL_INVALID_OPTION", "a counter limit must be a non-negative integer.");
        return (await redis.tlAcquire(slots(k), checkKey("a holder", holder), limit, checkTtl(ttlMs))) === 1;
      }),
    release: (k, holder) =>
      guard("counter release", async () => {
        await redis.zrem(slots(k), holder);
      }),
    hit: (k, windowMs) => guard("counter hit", async () => Number(await redis.tlHit(`${prefix}{r:${checkKey("a rate key", k)}}`, checkTtl(windowMs)))),
  };
}
