import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { formatId, isEpoch, isSessionId, newEpoch, newSessionId, parseId } from "@throughline/wire";
import { epochArb } from "./helpers.js";

const NUM_RUNS = Number(process.env.TL_FC_RUNS ?? 200);
/** The largest sequence an id may carry: 15 digits, far below Number.MAX_SAFE_INTEGER. */
const MAX_SEQ = 999_999_999_999_999;

describe("message ids", () => {
  it("formats an id as epoch, dash, sequence", () => {
    expect(formatId("k3x9", 0)).toBe("k3x9-0");
    expect(formatId("k3x9", 42)).toBe("k3x9-42");
  });

  it("parses the smallest and largest ids", () => {
    expect(parseId("a-0")).toEqual({ epoch: "a", seq: 0 });
    expect(parseId(`zzzzzzzzzzzzzzzz-${MAX_SEQ}`)).toEqual({ epoch: "zzzzzzzzzzzzzzzz", seq: MAX_SEQ });
  });

  it.each([
    ["empty", ""],
    ["no dash", "abc"],
    ["no sequence", "abc-"],
    ["no epoch", "-1"],
    ["a leading zero", "abc-01"],
    ["a negative sequence", "abc--1"],
    ["a plus sign", "abc-+1"],
    ["a fraction", "abc-1.5"],
    ["an exponent", "abc-1e3"],
    ["hex", "abc-0x10"],
    ["an uppercase epoch", "ABC-1"],
    ["an epoch of 17 characters", "a".repeat(17) + "-1"],
    ["a 16-digit sequence", "abc-1000000000000000"],
    ["an unsafe integer", "abc-9007199254740993"],
    ["two dashes", "a-b-1"],
    ["a leading space", " abc-1"],
    ["a trailing space", "abc-1 "],
    ["a trailing newline", "abc-1\n"],
    ["a NUL", "abc-1\u0000"],
    ["non-ASCII digits", "abc-\u0661"],
    ["a huge string", "a".repeat(1_000_000) + "-1"],
    ["a huge sequence", "a-" + "9".repeat(1_000_000)],
  ])("rejects an id with %s", (_name, id) => {
    expect(parseId(id)).toBeUndefined();
  });

  it("returns undefined for null, undefined and non-strings instead of throwing", () => {
    expect(parseId(null)).toBeUndefined();
    expect(parseId(undefined)).toBeUndefined();
    expect(parseId(5 as unknown as string)).toBeUndefined();
    expect(parseId({} as unknown as string)).toBeUndefined();
  });

  it("round-trips every epoch and sequence through formatId and parseId", () => {
    fc.assert(
      fc.property(epochArb, fc.integer({ min: 0, max: MAX_SEQ }), (epoch, seq) => {
        expect(parseId(formatId(epoch, seq))).toEqual({ epoch, seq });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("accepts exactly formatId output: whatever parses formats back to the same text", () => {
    const idLike = fc.oneof(
      fc.string(),
      fc.tuple(fc.stringMatching(/^[a-z0-9A-Z]{0,18}$/), fc.constantFrom("-", "--", "_"), fc.stringMatching(/^[-+0-9.e]{0,18}$/)).map((p) => p.join("")),
      fc.tuple(epochArb, fc.integer({ min: 0, max: MAX_SEQ })).map(([e, s]) => formatId(e, s)),
    );
    fc.assert(
      fc.property(idLike, (text) => {
        const parsed = parseId(text);
        if (parsed === undefined) return;
        expect(formatId(parsed.epoch, parsed.seq)).toBe(text);
        expect(isEpoch(parsed.epoch)).toBe(true);
        expect(Number.isSafeInteger(parsed.seq)).toBe(true);
        expect(parsed.seq).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("epochs and session ids", () => {
  it("makes epochs of 10 lowercase base-36 characters that form valid ids", () => {
    const epochs = Array.from({ length: 200 }, () => newEpoch());
    for (const e of epochs) {
      expect(e).toMatch(/^[a-z0-9]{10}$/);
      expect(isEpoch(e)).toBe(true);
      expect(parseId(formatId(e, 7))).toEqual({ epoch: e, seq: 7 });
    }
    expect(new Set(epochs).size).toBe(epochs.length);
  });

  it("makes session ids of 22 base64url characters, all distinct", () => {
    const ids = Array.from({ length: 200 }, () => newSessionId());
    for (const s of ids) {
      expect(s).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(isSessionId(s)).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("encodes a session id's 16 random bytes as base64url", () => {
    for (const fill of [0x00, 0xff, 0xa5]) {
      const bytes = Uint8Array.from({ length: 16 }, (_, i) => (fill + i * 37) & 0xff);
      const spy = vi.spyOn(globalThis.crypto, "getRandomValues").mockImplementation(<T extends ArrayBufferView | null>(a: T): T => {
        (a as unknown as Uint8Array).set(bytes);
        return a;
      });
      try {
        expect(newSessionId()).toBe(Buffer.from(bytes).toString("base64url"));
      } finally {
        spy.mockRestore();
      }
    }
  });

  it("validates epochs", () => {
    expect(isEpoch("a")).toBe(true);
    expect(isEpoch("0123456789abcdef")).toBe(true);
    for (const bad of ["", "A", "a-b", "0123456789abcdefg", "é"]) expect(isEpoch(bad)).toBe(false);
  });

  it("validates session ids", () => {
    expect(isSessionId("a")).toBe(true);
    expect(isSessionId("x".repeat(64))).toBe(true);
    for (const bad of ["", "x".repeat(65), "a b", "a+b", "a/b", "ab==", "a\n", "é"]) expect(isSessionId(bad)).toBe(false);
  });
});
