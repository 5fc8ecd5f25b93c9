/**
 * The pluggable history store: where a hub keeps the messages reconnecting clients resume from,
 * and the sequence that numbers them. Hubs given the same store object share one epoch and one
 * sequence, so a client cut from one instance by a graceful shutdown (1001) resumes on another
 * without loss.
 *
 * The interface is synchronous on purpose: `publish()` assigns an id and fans out in one
 * synchronous step, which is what makes "subscribe + replay" race-free. A store backed by an
 * external system therefore keeps a local replica and replicates in the background; the
 * in-memory default is enough for several hubs in one process (and for tests).
 */
import { ThroughlineError, isEpoch, newEpoch } from "@throughline/wire";
import { History, type HistoryConfig, type HistoryEntry, type SinceResult } from "./history.js";

/** What a hub needs from its history. Entries are the hub's own objects: store them as given. */
export interface HistoryStore {
  /** Names this run of the history in every message id; hubs using the store take it. */
  readonly epoch: string;
  /** Sequence of the newest entry ever added (0 before the first): the next publish gets `seq + 1`. */
  readonly seq: number;
  /** Records an entry whose `seq` is `this.seq + 1` (called synchronously by `publish`). */
  add(entry: HistoryEntry): void;
  /**
   * Retained entries of `topics` (`["*"]`: all) with seq > `cursor`, in seq order, and the topics
   * whose history no longer covers `cursor` (`"*"` when it cannot say which). Bounded work.
   */
  since(topics: readonly string[], cursor: number): SinceResult<HistoryEntry>;
  /** Evicts aged entries (called on every heartbeat tick). */
  prune(): void;
}

/** Options of the in-memory store. */
export interface MemoryHistoryStoreOptions {
  /** Messages kept per topic. @default 1_000 */
  size?: number;
  /** Messages older than this are evicted (`Infinity`: only `size` evicts). @default 300_000 */
  maxAgeMs?: number;
  /** Topic records kept; the least recently published topic is forgotten past it. @default 10_000 */
  maxTopics?: number;
  /** Epoch of the store. @default newEpoch() (random) */
  epoch?: string;
  /** Time source for age eviction. @default Date.now */
  now?: () => number;
}

/** Defaults of `MemoryHistoryStoreOptions` (those with a constant default). */
export const DEFAULT_MEMORY_HISTORY_STORE_OPTIONS = Object.freeze({
  size: 1_000,
  maxAgeMs: 300_000,
  maxTopics: 10_000,
});

/** The default store: a bounded in-memory `History` plus the shared sequence. */
export class MemoryHistoryStore implements HistoryStore {
  readonly epoch: string;
  readonly history: History<HistoryEntry>;

  /** @throws ThroughlineError TL_INVALID_OPTION for an out-of-range option */
  constructor(options: MemoryHistoryStoreOptions = {}) {
    const d = DEFAULT_MEMORY_HISTORY_STORE_OPTIONS;
    const count = (name: string, v: unknown, fallback: number, allowInfinity = false): number => {
      if (v === undefined) return fallback;
      if (allowInfinity && v === Infinity) return v;
      if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
        throw new ThroughlineError("TL_INVALID_OPTION", `MemoryHistoryStore option \`${name}\` must be a positive integer${allowInfinity ? " or Infinity" : ""} (got ${String(v).slice(0, 40)}).`);
      }
      return v;
    };
    const epoch = options.epoch ?? newEpoch();
    if (typeof epoch !== "string" || !isEpoch(epoch)) throw new ThroughlineError("TL_INVALID_OPTION", "MemoryHistoryStore option `epoch` must be 1–16 of [a-z0-9].");
    if (options.now !== undefined && typeof options.now !== "function") throw new ThroughlineError("TL_INVALID_OPTION", "MemoryHistoryStore option `now` must be a function.");
    this.epoch = epoch;
    const config: HistoryConfig = {
      size: count("size", options.size, d.size),
      maxAgeMs: count("maxAgeMs", options.maxAgeMs, d.maxAgeMs, true),
      maxTopics: count("maxTopics", options.maxTopics, d.maxTopics),
    };
    this.history = new History<HistoryEntry>(config, options.now ?? Date.now);
  }

  get seq(): number {
    return this.history.lastSeq;
  }

  add(entry: HistoryEntry): void {
    this.history.add(entry);
  }

  since(topics: readonly string[], cursor: number): SinceResult<HistoryEntry> {
    return this.history.since(topics, cursor);
  }

  prune(): void {
    this.history.prune();
  }
}
