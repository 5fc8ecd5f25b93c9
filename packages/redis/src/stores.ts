/**
 * The shared state other nodes need besides the history: sessions and single-use tickets, each a
 * few Redis commands on the command connection (counters: counters.ts).
 */
import type { Redis } from "ioredis";
import type { SessionStore, SharedSession, TicketStore } from "./contract.js";
import { checkKey, checkTtl } from "./counters.js";

/** Runs `op` once the connection is ready, mapping failures to `TL_BACKPLANE_UNAVAILABLE` (backplane.ts). */
export type Call = <T>(what: string, op: () => Promise<T>) => Promise<T>;

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
