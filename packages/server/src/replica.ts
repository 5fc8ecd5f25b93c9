/**
 * A node's local replica of the shared history (issue #12): a `HistoryStore` filled only by the
 * backplane ingest, so `Hub.plan` stays synchronous (subscribe + replay in one step, race-free)
 * while the history is shared. Its epoch follows the backplane's; `floor` is the position from
 * which it vouches for every message (what was retained when the node started, or where a new
 * epoch or an eviction gap began): a cursor below it gets a `*` gap, never a silent hole.
 */
import { History, type HistoryConfig, type HistoryEntry, type SinceResult } from "./history.js";
import type { HistoryStore } from "./history-store.js";

export class ReplicaStore implements HistoryStore {
  #epoch: string;
  #seq = 0;
  #floor = 0;
  #history: History<HistoryEntry>;

  constructor(
    epoch: string,
    private readonly config: HistoryConfig,
    private readonly now: () => number,
  ) {
    this.#epoch = epoch;
    this.#history = new History(config, now);
  }

  get epoch(): string {
    return this.#epoch;
  }

  get seq(): number {
    return this.#seq;
  }

  /** The position from which this replica holds every message (within its per-topic bounds). */
  get floor(): number {
    return this.#floor;
  }

  /** Starts over at `epoch`/`seq`: nothing before it is vouched for. */
  reset(epoch: string, seq: number): void {
    this.#epoch = epoch;
    this.#seq = seq;
    this.#floor = seq;
    this.#history = new History(this.config, this.now);
  }

  add(entry: HistoryEntry): void {
    this.#history.add(entry);
    this.#seq = entry.seq;
  }

  since(topics: readonly string[], cursor: number): SinceResult<HistoryEntry> {
    const result = this.#history.since(topics, cursor);
    return cursor < this.#floor ? { entries: result.entries, gaps: ["*"] } : result;
  }

  prune(): void {
    this.#history.prune();
  }
}
