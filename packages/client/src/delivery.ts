/**
 * Delivery to the application: the cursor, dedupe and gaps. Every link of a round, a switch or
 * a rotation streams contiguously from the cursor it started with, and ids carry one global
 * sequence per epoch, so "deliver only what is newer than the cursor" merges any number of
 * overlapping links into one stream with neither loss nor duplicate.
 */
import { parseId, type GapFrame, type Message, type MessageFrame } from "@throughline/wire";

/** `id` is not newer than `cursor` (same epoch, seq ≤): a duplicate of a resume or an overlap. */
export function isStale(id: string, cursor: string | null): boolean {
  const a = parseId(id);
  const c = parseId(cursor);
  return !!a && !!c && a.epoch === c.epoch && a.seq <= c.seq;
}

export interface DeliverySink {
  message(m: Message): void;
  gap(f: GapFrame): void;
}

export class Delivery {
  constructor(
    public cursor: string | null,
    private readonly sink: DeliverySink,
  ) {}

  /** Delivers `f` unless the app already has it; `true` when delivered. */
  message(f: MessageFrame): boolean {
    if (isStale(f.id, this.cursor)) return false;
    this.cursor = f.id;
    this.sink.message({ id: f.id, topic: f.topic, event: f.event, data: f.data });
    return true;
  }

  /** Signals a gap unless another link already delivered past it (moving the cursor back would duplicate). */
  gap(f: GapFrame): void {
    if (this.cursor !== null && f.cursor !== this.cursor && isStale(f.cursor, this.cursor)) return;
    this.cursor = f.cursor;
    this.sink.gap(f);
  }
}
