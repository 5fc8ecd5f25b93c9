/**
 * Per-topic bounded history for resume. Each topic keeps its newest `size` entries, none older
 * than `maxAgeMs`, and remembers the highest sequence number it ever evicted: a resume from a
 * cursor below that number cannot be complete for the topic, which is exactly a `gap`.
 *
 * Entries of one topic are appended in increasing `seq` order (the hub's global sequence), so
 * each topic's list is sorted and a cursor is found by binary search.
 */

/** What the history needs to know of an entry. */
export interface HistoryEntry {
  readonly seq: number;
  readonly topic: string;
  /** Clock time the entry was added, for age eviction. */
  readonly time: number;
}

export interface HistoryConfig {
  /** Entries kept per topic, ≥ 1. */
  readonly size: number;
  /** Entries with `now - time >= maxAgeMs` are evicted. */
  readonly maxAgeMs: number;
}

/** Result of `since`: retained entries newer than the cursor, and topics whose history no longer covers it. */
export interface SinceResult<E> {
  readonly entries: E[];
  readonly gaps: string[];
}

/** One topic: a growable queue (array + start offset, compacted as it drains) and its eviction mark. */
class TopicLog<E extends HistoryEntry> {
  items: E[] = [];
  start = 0;
  /** Highest evicted seq; 0 when nothing was evicted (sequences start at 1). */
  evicted = 0;

  get length(): number {
    return this.items.length - this.start;
  }

  push(e: E): void {
    this.items.push(e);
  }

  shift(): void {
    this.evicted = this.items[this.start]!.seq;
    this.start++;
    // Compact when the dead prefix dominates: amortized O(1), memory stays ~2× live entries.
    if (this.start >= 64 && this.start * 2 >= this.items.length) {
      this.items = this.items.slice(this.start);
      this.start = 0;
    }
  }

  oldest(): E | undefined {
    return this.items[this.start];
  }

  /** Entries with seq > cursor, in order. */
  after(cursor: number): E[] {
    let lo = this.start;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]!.seq <= cursor) lo = mid + 1;
      else hi = mid;
    }
    return this.items.slice(lo);
  }
}

/**
 * Topic records are kept after their entries age out (only the eviction mark remains), because
 * forgetting a topic would forget its gap. Memory is therefore one small record per topic ever
 * published, plus the retained entries.
 */
export class History<E extends HistoryEntry> {
  readonly #topics = new Map<string, TopicLog<E>>();

  constructor(
    private readonly config: HistoryConfig,
    private readonly now: () => number,
  ) {}

  /** Appends an entry (its seq must be higher than any before), evicting beyond `size`. */
  add(entry: E): void {
    let log = this.#topics.get(entry.topic);
    if (!log) {
      log = new TopicLog<E>();
      this.#topics.set(entry.topic, log);
    }
    log.push(entry);
    while (log.length > this.config.size) log.shift();
    this.#expire(log, this.now());
  }

  /**
   * Retained entries of `topics` (`["*"]`: all) with seq > `cursor`, merged in seq order, and
   * the topics that evicted an entry with seq > `cursor` (in the order of `topics`, or of first
   * publish for `*`).
   */
  since(topics: readonly string[], cursor: number): SinceResult<E> {
    const now = this.now();
    const logs: Array<[string, TopicLog<E>]> = [];
    if (topics.length === 1 && topics[0] === "*") {
      for (const entry of this.#topics) logs.push(entry);
    } else {
      for (const t of topics) {
        const log = this.#topics.get(t);
        if (log) logs.push([t, log]);
      }
    }
    const gaps: string[] = [];
    let entries: E[] = [];
    for (const [topic, log] of logs) {
      this.#expire(log, now);
      if (log.evicted > cursor) gaps.push(topic);
      const part = log.after(cursor);
      if (part.length > 0) entries = entries.length === 0 ? part : entries.concat(part);
    }
    if (logs.length > 1) entries.sort((a, b) => a.seq - b.seq);
    return { entries, gaps };
  }

  /** Evicts aged entries of every topic (called periodically so idle topics free memory). */
  prune(): void {
    const now = this.now();
    for (const log of this.#topics.values()) this.#expire(log, now);
  }

  /** Number of retained entries (all topics). */
  get size(): number {
    let n = 0;
    for (const log of this.#topics.values()) n += log.length;
    return n;
  }

  /** Highest evicted seq of a topic (0: none). */
  evictedUpTo(topic: string): number {
    return this.#topics.get(topic)?.evicted ?? 0;
  }

  #expire(log: TopicLog<E>, now: number): void {
    if (this.config.maxAgeMs === Infinity) return;
    const limit = now - this.config.maxAgeMs;
    for (let e = log.oldest(); e && e.time <= limit; e = log.oldest()) log.shift();
  }
}
