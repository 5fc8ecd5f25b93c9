/**
 * Write coalescing for the streaming transports (issue #15): what is delivered to a connection
 * within one turn of the event loop goes out as ONE write (one SSE chunk; one socket write
 * carrying several WebSocket frames) at the end of that turn, in a microtask. Nothing waits for
 * a timer: a message published alone is written in the same turn, just after the publishing code
 * returns; a burst of k messages costs each connection one write instead of k.
 *
 * The bytes of a batch are built once and shared. A connection's pending messages are a node of
 * a per-turn trie of `Batch`es: every connection that received the same messages in the same
 * order this turn (the same topics) holds the same node, so the joined SSE chunk or frame run is
 * concatenated once per turn, not once per connection. Connections whose topics differ simply
 * get nodes of their own (correct, just not shared).
 */
import type { Envelope } from "../envelope.js";

/** A connection that holds a pending `Batch` and writes it when asked (once per turn). */
export interface BatchTarget {
  /** Writes the pending batch, if any (also called before any other write, to keep order). */
  flushBatch(): void;
}

/** The messages delivered to a connection this turn, oldest first (a trie node, see the file comment). */
export class Batch {
  /** How many messages the batch holds. */
  readonly count: number;
  /** The one batch that extends this by a message (the common case: every connection got the same one). */
  #next: Batch | undefined;
  #sse: Buffer | undefined;
  #ws: Buffer | undefined;

  constructor(
    readonly envelope: Envelope,
    readonly prev: Batch | undefined,
  ) {
    this.count = prev ? prev.count + 1 : 1;
  }

  /** This batch followed by `envelope`: shared with every connection that took the same step. */
  then(envelope: Envelope): Batch {
    const next = this.#next;
    if (next !== undefined && next.envelope === envelope) return next;
    const made = new Batch(envelope, this);
    this.#next ??= made;
    return made;
  }

  /** The envelopes, oldest first. */
  envelopes(): Envelope[] {
    const out = new Array<Envelope>(this.count);
    let b: Batch | undefined = this;
    for (let i = this.count - 1; b !== undefined; i--, b = b.prev) out[i] = b.envelope;
    return out;
  }

  /** The SSE event blocks joined: one chunk (the envelope's own bytes for one message). */
  get sse(): Buffer {
    if (this.count === 1) return this.envelope.sseBuffer;
    return (this.#sse ??= Buffer.concat(this.envelopes().map((e) => e.sseBuffer)));
  }

  /** The complete WebSocket text frames (header + payload) joined, for one raw socket write. */
  get wsFrames(): Buffer {
    if (this.count === 1) return this.envelope.wsFrame;
    return (this.#ws ??= Buffer.concat(this.envelopes().map((e) => e.wsFrame)));
  }
}

/** Connections with a pending batch, flushed together at the end of the turn. */
let dirty: BatchTarget[] = [];
/** This turn's one-message batches, by envelope (the trie roots); emptied at the flush. */
const roots = new Map<Envelope, Batch>();

function flushAll(): void {
  // Taken first: a write that re-enters (a close whose listener publishes) starts a new batch.
  const targets = dirty;
  dirty = [];
  roots.clear();
  for (const t of targets) {
    try {
      t.flushBatch();
    } catch {
      // A broken socket reports through its close event; the other connections still get theirs.
    }
  }
}

/**
 * Adds `envelope` to `target`'s pending batch (`pending`, `undefined` when none) and returns the
 * new pending batch. The first message of a turn schedules the flush (a microtask: no timer, so
 * low-rate latency is unchanged).
 */
export function coalesce(target: BatchTarget, pending: Batch | undefined, envelope: Envelope): Batch {
  if (pending !== undefined) return pending.then(envelope);
  if (dirty.length === 0) queueMicrotask(flushAll);
  dirty.push(target);
  let root = roots.get(envelope);
  if (root === undefined) {
    root = new Batch(envelope, undefined);
    roots.set(envelope, root);
  }
  return root;
}
