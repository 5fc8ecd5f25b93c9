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
  /**
   * Topic records kept; past it the least recently published topic is forgotten (see
   * `History`). @default Infinity
   */
  readonly maxTopics?: number;
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
 * forgetting a topic would forget its gap. They are bounded by `maxTopics` all the same (one-off
 * topics would otherwise grow memory forever): the least recently published topic is forgotten,
 * and `#forgotten` remembers the newest seq any forgotten topic ever had. Any resume from a
 * cursor below that mark gets a gap for every topic the history cannot vouch for (a forgotten
 * one may be among them): conservative, never silent.
 */
export class History<E extends HistoryEntry> {
  /** In least-recently-published order (re-inserted on every add), so the first is forgotten first. */
  readonly #topics = new Map<string, TopicLog<E>>();
  /** Highest seq of any entry of a forgotten topic (0: none forgotten). */
  #forgotten = 0;
  /** Highest seq ever added (0: none). */
  #last = 0;
  /** Topic of the newest entry (already last in `#topics`). */
  #lastTopic: string | undefined;

  constructor(
    private readonly config: HistoryConfig,
    private readonly now: () => number,
  ) {}

  /** Appends an entry (its seq must be higher than any before), evicting beyond `size`. */
  add(entry: E): void {
    const max = this.config.maxTopics ?? Infinity;
    let log = this.#topics.get(entry.topic);
    if (log) {
      // Move to the end, so the Map's first key is the least recently published topic (only
      // needed when topics can be forgotten, and not when it already is the last one).
      if (max !== Infinity && this.#lastTopic !== entry.topic) {
        this.#topics.delete(entry.topic);
        this.#topics.set(entry.topic, log);
      }
    } else {
      log = new TopicLog<E>();
      // A topic re-created after being forgotten cannot vouch for cursors below the mark.
      log.evicted = this.#forgotten;
      if (this.#topics.size >= max) this.#forgetOldest();
      this.#topics.set(entry.topic, log);
    }
    this.#lastTopic = entry.topic;
    this.#last = entry.seq;
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
    // Topics the history may have forgotten: a gap unless their own record is present (checked below).
    if (cursor < this.#forgotten) {
      if (topics.length === 1 && topics[0] === "*") gaps.push("*");
      else for (const t of topics) if (!this.#topics.has(t)) gaps.push(t);
    }
    const parts: E[][] = [];
    for (const [topic, log] of logs) {
      this.#expire(log, now);
      if (log.evicted > cursor) gaps.push(topic);
      const part = log.after(cursor);
      if (part.length > 0) parts.push(part);
    }
    // One flat copy (not a concat per topic: quadratic over many topics), then one sort.
    const entries = parts.length === 1 ? parts[0]! : parts.flat();
    if (parts.length > 1) entries.sort((a, b) => a.seq - b.seq);
    return { entries, gaps };
  }

  /**
   * Whether `since(topics, cursor)` would report no gap: every topic still holds every entry it
   * had after `cursor` (no copy of the entries; used to decide whether a resume needs a backfill).
   */
  covers(topics: readonly string[], cursor: number): boolean {
    const now = this.now();
    const all = topics.length === 1 && topics[0] === "*";
    if (cursor < this.#forgotten && (all || topics.some((t) => !this.#topics.has(t)))) return false;
    for (const t of all ? this.#topics.keys() : topics) {
      const log = this.#topics.get(t);
      if (!log) continue;
      this.#expire(log, now);
      if (log.evicted > cursor) return false;
    }
    return true;
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

  /** Topic records kept (≤ `maxTopics`). */
  get topicCount(): number {
    return this.#topics.size;
  }

  /** Highest seq ever added (0: none). */
  get lastSeq(): number {
    return this.#last;
  }

  /** Highest evicted seq of a topic (0: none). */
  evictedUpTo(topic: string): number {
    return this.#topics.get(topic)?.evicted ?? 0;
  }

  #forgetOldest(): void {
    const first = this.#topics.entries().next();
    if (first.done) return;
    const [topic, log] = first.value;
    this.#topics.delete(topic);
    const newest = log.items[log.items.length - 1];
    this.#forgotten = Math.max(this.#forgotten, log.evicted, newest?.seq ?? 0);
  }

  #expire(log: TopicLog<E>, now: number): void {
    if (this.config.maxAgeMs === Infinity) return;
    const limit = now - this.config.maxAgeMs;
    for (let e = log.oldest(); e && e.time <= limit; e = log.oldest()) log.shift();
  }
}
