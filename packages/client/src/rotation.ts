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

export class CutLearner {
  #last: number | undefined;
  #learnt: number | undefined;

  /** The learnt cut age, if any. */
  get cutMs(): number | undefined {
    return this.#learnt;
  }

  /** A healthy link was cut without a close code after `ageMs`. */
  cut(ageMs: number): void {
    if (ageMs < MIN_CUT_MS) return;
    const last = this.#last;
    this.#last = ageMs;
    if (last !== undefined && Math.abs(ageMs - last) <= TOLERANCE * Math.max(ageMs, last)) this.#learnt = Math.min(ageMs, last, this.#learnt ?? Infinity);
  }

  /** A link lived `ageMs` without being cut (it was rotated, or ended otherwise past the learnt age). */
  survived(ageMs: number): void {
    if (this.#learnt !== undefined && ageMs > this.#learnt * (1 + TOLERANCE)) this.#learnt = this.#last = undefined;
  }

  /** When to start rotating a link that just opened (`undefined`: no rotation). */
  rotateAfterMs(): number | undefined {
    return this.#learnt === undefined ? undefined : Math.floor(this.#learnt * ROTATE_AT);
  }
}
