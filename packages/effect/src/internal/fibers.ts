/**
 * Counts the background fibers the Effect client runs (supervisor, climb-back), so the leak test
 * can check that closing a channel's scope leaves none behind. Not exported from the package.
 */
import * as Effect from "effect/Effect";

let live = 0;

/** Background fibers of every channel that have started and not yet ended. */
export function liveFibers(): number {
  return live;
}

/** `effect`, counted as one live background fiber while it runs. */
export function counted<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
  return Effect.suspend(() => {
    live++;
    return Effect.ensuring(effect, Effect.sync(() => void live--));
  });
}
