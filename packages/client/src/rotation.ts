/**
 * Rotation (issue #10, "no gap at cuts"): a proxy that cuts every response after a fixed time
 * cuts each link at about the same age. After two healthy links were cut at ages within
 * `TOLERANCE` of each other, the client has learnt the cut and rotates the next link
 * make-before-break: at `ROTATE_AT` of the learnt age it proves a new link of the same transport,
 * which resumes from the cursor, and only then drops the old one (the overlap is dropped by
 * cursor), so the application sees no gap. A link that outlives the learnt age unlearns it.
 */

/** Two cuts whose ages differ by at most this fraction count as one fixed duration. */
export const TOLERANCE = 0.2;
/** Rotate at this fraction of the learnt cut age, leaving room to prove the new link. */
export const ROTATE_AT = 0.7;
/** Shorter-lived links teach nothing (a flapping link backs off instead). */
export const MIN_CUT_MS = 1_000;

export interface CutLearner {
  /** A healthy link was cut without a close code after `ageMs`. */
  cut(ageMs: number): void;
  /** A link lived `ageMs` (it was replaced): past the learnt age, the cut is unlearnt. */
  survived(ageMs: number): void;
  /** When to start rotating a link that just opened (`undefined`: no rotation). */
  _rotateAfterMs(): number | undefined;
}

/** A closure rather than a class: its private state then minifies. */
export function cutLearner(): CutLearner {
  let last: number | undefined;
  let learnt: number | undefined;
  return {
    cut(age) {
      if (age < MIN_CUT_MS) return;
      const prev = last;
      last = age;
      if (prev !== undefined && Math.abs(age - prev) <= TOLERANCE * Math.max(age, prev)) learnt = Math.min(age, prev, learnt ?? Infinity);
    },
    survived(age) {
      if (learnt !== undefined && age > learnt * (1 + TOLERANCE)) learnt = last = undefined;
    },
    _rotateAfterMs: () => (learnt === undefined ? undefined : Math.floor(learnt * ROTATE_AT)),
  };
}
