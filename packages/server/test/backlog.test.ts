import { CloseCode } from "@throughline/wire";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BACKLOG_GRACE_MS, Backlog } from "../src/backlog.js";

/** A connection stand-in: the backlog only ever calls its owner's close. */
function owner() {
  const closes: Array<[number, string]> = [];
  return { closes, close: (code: number, reason: string) => void closes.push([code, reason]) };
}

describe("Backlog", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("closes its owner with 4408 when still over the limit at the end of the grace period", () => {
    const o = owner();
    const b = new Backlog(2, o);
    for (let i = 0; i < 3; i++) b.wrote();
    vi.advanceTimersByTime(BACKLOG_GRACE_MS - 1);
    expect(o.closes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(o.closes).toEqual([[CloseCode.TOO_SLOW, "the client read too slowly"]]);
  });

  it("does not close a reader whose writes completed within the grace period", () => {
    const o = owner();
    const b = new Backlog(2, o);
    for (let i = 0; i < 3; i++) b.wrote();
    b.done();
    vi.advanceTimersByTime(BACKLOG_GRACE_MS);
    expect(b.count).toBe(2);
    expect(o.closes).toEqual([]);
  });

  it("does not close once disposed", () => {
    const o = owner();
    const b = new Backlog(0, o);
    b.wrote();
    b.dispose();
    vi.advanceTimersByTime(BACKLOG_GRACE_MS * 2);
    expect(o.closes).toEqual([]);
  });

  it("hands out one write callback, the same on every counted write", () => {
    const b = new Backlog(10, owner());
    const first = b.done;
    expect(b.done).toBe(first);
    first();
    expect(b.count).toBe(-1);
  });
});
