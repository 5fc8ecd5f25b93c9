/**
 * Memory of the last proven transport per endpoint, so the next connect tries it first:
 * `localStorage` in browsers (survives reloads), a module-level map in Node (one process).
 * Entries expire: networks change (a laptop leaves the office proxy behind).
 */
import { TRANSPORTS, type TransportName } from "@throughline/wire";

/** Where remembered choices are kept; injectable (tests, or an app's own storage). */
export interface TransportMemory {
  get(key: string): { transport: TransportName; at: number } | undefined;
  set(key: string, transport: TransportName, at: number): void;
  delete(key: string): void;
}

const PREFIX = "throughline:transport:";

/** Process-wide memory for runtimes without localStorage (Node). */
export function createMapMemory(): TransportMemory {
  const map = new Map<string, { transport: TransportName; at: number }>();
  return {
    get: (key) => map.get(key),
    set: (key, transport, at) => void map.set(key, { transport, at }),
    delete: (key) => void map.delete(key),
  };
}

interface StorageLike {
  getItem(k: string): string | null;
  setItem(k: string, v: string): void;
  removeItem(k: string): void;
}

/** Memory in a Web Storage (`localStorage`); storage errors (quota, privacy mode) are ignored. */
export function createStorageMemory(storage: StorageLike): TransportMemory {
  return {
    get(key) {
      try {
        const raw = storage.getItem(PREFIX + key);
        if (!raw) return undefined;
        const v = JSON.parse(raw) as { transport?: unknown; at?: unknown };
        // What `set` wrote (checked: storage is shared with other code and versions). The name
        // test is options.ts's and the channel's, `TRANSPORTS.includes`, not a second function.
        return TRANSPORTS.includes(v.transport as TransportName) && typeof v.at === "number" ? (v as { transport: TransportName; at: number }) : undefined;
      } catch {
        return undefined;
      }
    },
    set(key, transport, at) {
      try {
        storage.setItem(PREFIX + key, JSON.stringify({ transport, at }));
      } catch {
        // Memory is an optimisation: never fail a connection over it.
      }
    },
    delete(key) {
      try {
        storage.removeItem(PREFIX + key);
      } catch {
        // as above
      }
    },
  };
}

let shared: TransportMemory | undefined;

/** The default memory: `localStorage` when the runtime has a usable one, else one map per process. */
export function defaultMemory(): TransportMemory {
  if (shared) return shared;
  let storage: StorageLike | undefined;
  try {
    storage = (globalThis as { localStorage?: StorageLike }).localStorage;
  } catch {
    // A sandboxed iframe throws on access: no storage.
  }
  shared = storage ? createStorageMemory(storage) : createMapMemory();
  return shared;
}

/**
 * The order to try: a fresh remembered transport first (if it is in `order`), then the rest in
 * preference order.
 */
export function rememberedOrder(order: readonly TransportName[], memory: TransportMemory | undefined, key: string, now: number, ttlMs: number): TransportName[] {
  const m = memory && memory.get(key);
  if (!m || now - m.at > ttlMs || now < m.at - ttlMs || !order.includes(m.transport)) return [...order];
  return [m.transport, ...order.filter((t) => t !== m.transport)];
}
