/**
 * Shared test helpers for the wire package: one way to assert a ThroughlineError (code, message
 * prefix and status together), fast-check arbitraries for valid names and hostile text, and an
 * SSE decoder harness that records everything it emits.
 */
import fc from "fast-check";
import { expect } from "vitest";
import {
  RESERVED_EVENTS,
  ThroughlineError,
  createSseFrameDecoder,
  createSseParser,
  type ErrorCode,
  type SseEvent,
  type SseParser,
  type ServerFrame,
} from "@throughline/wire";

/**
 * Runs `fn`, asserts it threw a ThroughlineError with `code`, the "Throughline: " prefix and
 * exactly `status` (`undefined` where the error is not an HTTP answer), and returns it.
 */
export function expectThroughlineError(fn: () => unknown, code: ErrorCode, status?: number): ThroughlineError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, "expected a ThroughlineError to be thrown").toBeInstanceOf(ThroughlineError);
  const err = thrown as ThroughlineError;
  expect(err.code).toBe(code);
  expect(err.message.startsWith("Throughline: ")).toBe(true);
  expect(err.name).toBe("ThroughlineError");
  expect(err.status).toBe(status);
  return err;
}

/** A valid topic name: 1–128 of [A-Za-z0-9_.:/-]. */
export const topicArb: fc.Arbitrary<string> = fc.stringMatching(/^[A-Za-z0-9_.:/-]{1,128}$/);

/** A valid epoch: 1–16 of [a-z0-9]. */
export const epochArb: fc.Arbitrary<string> = fc.stringMatching(/^[a-z0-9]{1,16}$/);

/** A lone UTF-16 surrogate half (not well-formed Unicode; JSON.stringify escapes it). */
export const loneSurrogateArb: fc.Arbitrary<string> = fc
  .integer({ min: 0xd800, max: 0xdfff })
  .map((c) => String.fromCharCode(c));

/** One "character" of hostile text: any code point, a lone surrogate or a line-end/NUL/BOM. */
export const hostileUnit: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: loneSurrogateArb },
  { weight: 2, arbitrary: fc.constantFrom("\n", "\r", "\r\n", "\u0000", "\uFEFF", "\u2028", ":", " ") },
);

/** Any JS string, including lone surrogates, CR, LF, CRLF, NUL and BOMs. */
export const anyStringArb = (maxLength = 64): fc.Arbitrary<string> => fc.string({ unit: hostileUnit, maxLength });

/** Well-formed Unicode strings (what survives a UTF-8 byte round trip unchanged). */
export const wellFormedStringArb = (minLength = 0, maxLength = 64): fc.Arbitrary<string> =>
  fc.string({ unit: "binary", minLength, maxLength });

// eslint-disable-next-line no-control-regex
const EVENT_CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Event names the server accepts (assertEventName) and that are well-formed Unicode, plus the
 * default `message`. Lone surrogates are left out on purpose: see sse.property.test.ts.
 */
export const eventNameArb: fc.Arbitrary<string> = fc.oneof(
  fc.constant("message"),
  fc.constantFrom("chat.new", "typing", "tl", "TL:x", "ünïcödé", "😀", " leading space", "trailing "),
  wellFormedStringArb(1, 128).filter(
    (s) => s.length <= 128 && !EVENT_CONTROL.test(s) && !RESERVED_EVENTS.has(s) && !s.startsWith("tl:"),
  ),
);

/** What an SSE parser reported, in order. */
export interface SseRecord {
  readonly events: SseEvent[];
  readonly comments: string[];
  readonly retries: number[];
  readonly parser: SseParser;
}

/** A raw WHATWG parser that records events, comments and retries. */
export function recordSse(): SseRecord {
  const rec = { events: [] as SseEvent[], comments: [] as string[], retries: [] as number[] };
  const parser = createSseParser({
    onEvent: (e) => rec.events.push(e),
    onComment: (c) => rec.comments.push(c),
    onRetry: (ms) => rec.retries.push(ms),
  });
  return { ...rec, parser };
}

/** What a frame decoder reported, in order. */
export interface FrameRecord {
  readonly frames: ServerFrame[];
  readonly errors: ThroughlineError[];
  readonly comments: string[];
  readonly retries: number[];
  readonly decoder: SseParser;
}

/** A Throughline SSE frame decoder that records frames, errors, comments and retries. */
export function recordFrames(): FrameRecord {
  const rec = { frames: [] as ServerFrame[], errors: [] as ThroughlineError[], comments: [] as string[], retries: [] as number[] };
  const decoder = createSseFrameDecoder({
    onFrame: (f) => rec.frames.push(f),
    onError: (e) => rec.errors.push(e),
    onComment: (c) => rec.comments.push(c),
    onRetry: (ms) => rec.retries.push(ms),
  });
  return { ...rec, decoder };
}

const encoder = new TextEncoder();

/** UTF-8 bytes of `text` (lone surrogates become U+FFFD, as on a real socket). */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** What a string looks like after a UTF-8 encode/decode round trip. */
export function viaUtf8(text: string): string {
  // ignoreBOM: a U+FEFF inside a field is content, not a stream's byte order mark.
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(encoder.encode(text));
}

/** Splits `bytes` at the given offsets (any order, duplicates and out-of-range ones allowed). */
export function splitAt(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const cuts = [...new Set(offsets.map((o) => Math.min(Math.max(0, o), bytes.length)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(bytes.subarray(start, cut));
    start = cut;
  }
  return chunks;
}
