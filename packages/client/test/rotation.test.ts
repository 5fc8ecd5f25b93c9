import { describe, expect, it } from "vitest";
import { MIN_CUT_MS, ROTATE_AT, cutLearner } from "../src/rotation.js";

describe("learning a fixed-duration cut", () => {
  it("learns after two cuts of about the same age and rotates before that age", () => {
    const l = cutLearner();
    l.cut(5_020);
    expect(l._rotateAfterMs()).toBeUndefined();
    l.cut(4_980);
    // The shorter of the two ages is learnt (5_020 would rotate at 3_514).
    expect(l._rotateAfterMs()).toBe(Math.floor(4_980 * ROTATE_AT));
  });

  it("learns nothing from cuts of different ages, or from short-lived links", () => {
    const l = cutLearner();
    l.cut(5_000);
    l.cut(9_000);
    expect(l._rotateAfterMs()).toBeUndefined();
    const s = cutLearner();
    s.cut(MIN_CUT_MS - 1);
    s.cut(MIN_CUT_MS - 1);
    expect(s._rotateAfterMs()).toBeUndefined();
  });

  it("unlearns when a link outlives the learnt age", () => {
    const l = cutLearner();
    l.cut(2_000);
    l.cut(2_000);
    l.survived(10_000);
    expect(l._rotateAfterMs()).toBeUndefined();
  });
});
