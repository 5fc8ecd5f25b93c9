/**
 * The latency behaviour: every event is delivered `ms` (+ jitter) after it arrived, never before
 * an earlier one, with one timer per stage at a time.
 */
import type { Timer } from "./clock.js";
import type { Emit } from "./events.js";
import type { Exchange } from "./exchange.js";

/** Delays each event; jitter never reorders (an event waits for the one before it). */
export function latencyStage<E>(ms: number, jitterMs: number, ex: Exchange, next: Emit<E>): Emit<E> {
  const queue: Array<{ due: number; event: E }> = [];
  let lastDue = 0;
  let timer: Timer | undefined;

  const drain = (): void => {
    timer = undefined;
    const now = ex.clock.now();
    while (queue.length > 0 && queue[0]!.due <= now) {
      const item = queue.shift()!;
      next(item.event);
      if (ex.done) return;
    }
    arm();
  };

  const arm = (): void => {
    if (timer !== undefined || queue.length === 0) return;
    timer = ex.setTimer(drain, queue[0]!.due - ex.clock.now());
  };

  ex.onDispose(() => {
    timer?.cancel();
    queue.length = 0;
  });

  return (event) => {
    if (ex.done) return;
    const due = Math.max(lastDue, ex.clock.now() + ms + (jitterMs > 0 ? ex.random() * jitterMs : 0));
    lastDue = due;
    queue.push({ due, event });
    arm();
  };
}
