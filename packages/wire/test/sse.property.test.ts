/**
 * Property tests of the SSE codec: whatever the server encodes, the client decodes to the same
 * frames, however the network chunks the bytes. Bounded (numRuns) so the suite stays fast; a
 * failure prints its seed, rerun with `fc.assert(…, { seed, path })` to reproduce.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  encodeSseControl,
  encodeSseEvent,
  encodeSseHeartbeat,
  encodeSseMessage,
  encodeSsePadding,
  formatId,
  type HelloFrame,
  type ServerFrame,
  type SseEvent,
  createSseParser,
} from "@throughline/wire";
import {
  anyStringArb,
  epochArb,
  eventNameArb,
  hostileUnit,
  recordFrames,
  recordSse,
  splitAt,
  topicArb,
  utf8,
  viaUtf8,
} from "./helpers.js";

/** 200 keeps the suite fast; raise it locally (TL_FC_RUNS=5000) when hunting bugs. */
const NUM_RUNS = Number(process.env.TL_FC_RUNS ?? 200);

/** What JSON does to a value on the way (e.g. -0 → 0, undefined object members dropped). */
const viaJson = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

/** Published data: any JSON value, hostile strings and no data at all. */
const smallDataArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ stringUnit: hostileUnit, maxDepth: 4 }) },
  { weight: 3, arbitrary: anyStringArb(200) },
  { weight: 1, arbitrary: fc.constantFrom("", "\n", "\r", "\r\n", "\u2028\u2029", "\uFEFF", "\ud800", "\udfff\ud800") },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

/** A ~100 KB payload built from a short hostile string (slicing may leave a lone surrogate). */
const bigDataArb: fc.Arbitrary<unknown> = fc
  .tuple(anyStringArb(8).filter((s) => s.length > 0), fc.integer({ min: 90_000, max: 110_000 }))
  .map(([s, n]) => ({ big: s.repeat(Math.ceil(n / s.length)).slice(0, n) }));

const messageArb = (data: fc.Arbitrary<unknown>) =>
  fc.record({
    type: fc.constant("message" as const),
    id: fc.tuple(epochArb, fc.integer({ min: 0, max: 999_999_999_999_999 })).map(([e, s]) => formatId(e, s)),
    topic: topicArb,
    event: eventNameArb,
    data,
  });

/** Large payloads are rare (1 in 10): they exercise big lines without slowing the suite down. */
const anyMessageArb = messageArb(fc.oneof({ weight: 9, arbitrary: smallDataArb }, { weight: 1, arbitrary: bigDataArb }));
const smallMessageArb = messageArb(smallDataArb);

const controlArb: fc.Arbitrary<ServerFrame> = fc.oneof(
  fc.record({ type: fc.constant("heartbeat" as const), time: fc.nat() }),
  fc.record({ type: fc.constant("probe" as const), seq: fc.nat(), time: fc.nat() }),
  fc.record({
    type: fc.constant("gap" as const),
    topic: fc.oneof(fc.constant("*"), topicArb),
    reason: fc.constantFrom("evicted" as const, "epoch" as const, "invalid-cursor" as const),
    cursor: fc.string(),
  }),
  fc.record({ type: fc.constant("close" as const), code: fc.integer({ min: 1000, max: 4999 }), reason: anyStringArb(40) }),
);

const hello: HelloFrame = { type: "hello", session: "s", transport: "sse", heartbeatMs: 15000, time: 1, cursor: "e-0", retryMs: 1234 };

function encodeFrame(f: ServerFrame): string {
  switch (f.type) {
    case "message":
      return encodeSseMessage(f.id, f.topic, f.event, f.data === undefined ? undefined : JSON.stringify(f.data));
    case "heartbeat":
      return encodeSseHeartbeat(f.time);
    default:
      return encodeSseControl(f);
  }
}

/** The frame the client must see: message data as JSON carries it. */
const expected = (f: ServerFrame): ServerFrame => (f.type === "message" ? { ...f, data: viaJson(f.data) } : f);

/** Rewrites the encoder's LF line ends (a stream ending in CR still ends its last line: §9.2.6). */
function withLineEnds(stream: string, ends: "lf" | "crlf" | "cr"): string {
  if (ends === "crlf") return stream.replace(/\n/g, "\r\n");
  if (ends === "cr") return stream.replace(/\n/g, "\r");
  return stream;
}

/** Cut points: arbitrary offsets, or a fixed small chunk size (every byte boundary gets hit). */
const cutsArb = fc.oneof(
  fc.array(fc.nat(), { maxLength: 40 }).map((ns) => (len: number) => ns.map((n) => n % (len + 1))),
  fc.integer({ min: 1, max: 7 }).map((size) => (len: number) => Array.from({ length: Math.floor(len / size) }, (_, i) => (i + 1) * size)),
);

describe("SSE codec properties", () => {
  it("decodes every encoded message to the same message, as text and as UTF-8 bytes", () => {
    fc.assert(
      fc.property(anyMessageArb, (msg) => {
        const encoded = encodeFrame(msg);
        const want = expected(msg);

        const asText = recordFrames();
        asText.decoder.feed(encoded);
        expect(asText.errors).toEqual([]);
        expect(asText.frames).toEqual([want]);

        const asBytes = recordFrames();
        asBytes.decoder.feedBytes(utf8(encoded));
        expect(asBytes.errors).toEqual([]);
        expect(asBytes.frames).toEqual([want]);

        // Strings survive exactly, lone surrogates included: JSON.stringify escapes them (\udXXX),
        // so the SSE line is plain ASCII around well-formed text and UTF-8 cannot mangle it.
        if (typeof msg.data === "string") {
          expect((asBytes.frames[0] as { data: unknown }).data).toBe(msg.data);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("yields exactly the same frames however the byte stream is chunked, with any line ends and a BOM", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof({ weight: 3, arbitrary: smallMessageArb }, { weight: 1, arbitrary: controlArb }), { maxLength: 12 }),
        fc.constantFrom("lf" as const, "crlf" as const, "cr" as const),
        fc.boolean(),
        cutsArb,
        (frames, ends, bom, cuts) => {
          const text = (bom ? "\uFEFF" : "") + withLineEnds(encodeSsePadding() + encodeSseControl(hello, hello.retryMs) + frames.map(encodeFrame).join(""), ends);
          const bytes = utf8(text);
          const want = [hello, ...frames.map(expected)];

          const chunked = recordFrames();
          for (const chunk of splitAt(bytes, cuts(bytes.length))) chunked.decoder.feedBytes(chunk);
          expect(chunked.errors).toEqual([]);
          expect(chunked.frames).toEqual(want);
          expect(chunked.comments).toEqual([" ".repeat(2047)]);
          expect(chunked.retries).toEqual([hello.retryMs]);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("yields exactly the same frames however the decoded text is chunked, even inside surrogate pairs", () => {
    fc.assert(
      fc.property(fc.array(smallMessageArb, { maxLength: 8 }), fc.constantFrom("lf" as const, "crlf" as const, "cr" as const), cutsArb, (frames, ends, cuts) => {
        const text = withLineEnds(frames.map(encodeFrame).join(""), ends);
        const offsets = [...new Set(cuts(text.length))].sort((a, b) => a - b);
        const chunked = recordFrames();
        let start = 0;
        for (const cut of [...offsets, text.length]) {
          chunked.decoder.feed(text.slice(start, cut));
          start = cut;
        }
        expect(chunked.errors).toEqual([]);
        expect(chunked.frames).toEqual(frames.map(expected));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("parses encodeSseEvent output back to the same event, line ends in data normalized to LF", () => {
    const field = anyStringArb(30).filter((s) => !/[\r\n\u0000]/.test(s));
    fc.assert(
      fc.property(
        fc.record({ id: field, event: field, data: anyStringArb(120), retry: fc.nat() }, { requiredKeys: ["data"] }),
        cutsArb,
        (ev, cuts) => {
          const encoded = encodeSseEvent(ev);
          const event = ev.event === undefined || ev.event === "" || ev.event === "message" ? undefined : ev.event;
          const data = ev.data.replace(/\r\n|\r/g, "\n");
          const want: SseEvent = ev.id === undefined ? { event, data } : { id: ev.id, event, data };

          const asText = recordSse();
          asText.parser.feed(encoded);
          expect(asText.events).toEqual([want]);
          expect(asText.retries).toEqual(ev.retry === undefined ? [] : [ev.retry]);

          // On the wire, UTF-8 turns lone surrogates into U+FFFD; nothing else changes.
          const bytes = utf8(encoded);
          const asBytes = recordSse();
          for (const chunk of splitAt(bytes, cuts(bytes.length))) asBytes.parser.feedBytes(chunk);
          const wantBytes: SseEvent = {
            ...(want.id === undefined ? {} : { id: viaUtf8(want.id) }),
            event: want.event === undefined ? undefined : viaUtf8(want.event),
            data: viaUtf8(data),
          };
          expect(asBytes.events).toEqual([wantBytes]);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

/** Everything a parser reports, in one ordered log, so order across callbacks is checked too. */
function parseLog(feed: (p: ReturnType<typeof createSseParser>) => void): string[] {
  const log: string[] = [];
  const parser = createSseParser({
    onEvent: (e) => log.push(`event ${JSON.stringify([e.id ?? null, e.event ?? null, e.data])}`),
    onComment: (c) => log.push(`comment ${JSON.stringify(c)}`),
    onRetry: (ms) => log.push(`retry ${ms}`),
    onLastEventId: (id) => log.push(`id ${JSON.stringify(id)}`),
  });
  feed(parser);
  return log;
}

/** Raw event-stream text built from the pieces that matter to §9.2.6 (fields, colons, line ends, BOM, NUL). */
const rawStreamArb = fc
  .array(
    fc.oneof(
      fc.constantFrom("data", "data:", "data: ", "event:", "id:", "id: ", "retry:", "retry: ", ":", ": ", "x:", "\uFEFF"),
      fc.constantFrom("\n", "\r", "\r\n", "\n\n", "\r\r", "\r\n\r\n"),
      fc.constantFrom("1", "42", "a", " ", "\u0000", "é", "😀", "\t"),
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(""));

describe("createSseParser properties (any event stream)", () => {
  it("reports the same events, comments, retries and last event IDs however the bytes are chunked", () => {
    fc.assert(
      fc.property(rawStreamArb, cutsArb, (stream, cuts) => {
        const bytes = utf8(stream);
        const whole = parseLog((p) => p.feedBytes(bytes));
        const chunked = parseLog((p) => {
          for (const chunk of splitAt(bytes, cuts(bytes.length))) p.feedBytes(chunk);
        });
        expect(chunked).toEqual(whole);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("reports the same as text and as bytes, and the same whatever the text chunking", () => {
    fc.assert(
      fc.property(rawStreamArb, cutsArb, (stream, cuts) => {
        const asBytes = parseLog((p) => p.feedBytes(utf8(stream)));
        const offsets = [...new Set(cuts(stream.length))].sort((a, b) => a - b);
        const asText = parseLog((p) => {
          let start = 0;
          for (const cut of [...offsets, stream.length]) {
            p.feed(stream.slice(start, cut));
            start = cut;
          }
        });
        // Cutting a surrogate pair in text is fine (lines only break at CR/LF); the UTF-8 path sees
        // the same characters because the arbitrary only joins well-formed pieces.
        expect(asText).toEqual(asBytes);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
