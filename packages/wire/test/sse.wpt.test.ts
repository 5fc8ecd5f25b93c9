/**
 * The web-platform-tests `eventsource/format-*` cases (https://github.com/web-platform-tests/wpt,
 * folder eventsource/) expressed as byte streams: the bytes the WPT server resources answer with
 * (`resources/message.py` appends its `newline` parameter, "\n\n" unless `newline=none`, then one
 * more "\n"), and what the page's EventSource must see. Each stream is fed whole, one byte at a
 * time and in chunks of 3, so a case also checks that chunking changes nothing.
 */
import { describe, expect, it } from "vitest";
import { createSseParser } from "@throughline/wire";
import { splitAt, utf8 } from "./helpers.js";

interface Seen {
  /** Dispatched events as an EventSource exposes them: type, data, lastEventId. */
  readonly events: { type: string; data: string; lastEventId: string }[];
  readonly retries: number[];
  /** The last event ID after the stream (what a reconnect would send). */
  readonly lastEventId: string;
}

/** Parses `bytes` like a page's EventSource would (the last event ID persists across events). */
function browse(bytes: Uint8Array, cuts: number[]): Seen {
  const events: Seen["events"] = [];
  const retries: number[] = [];
  let lastEventId = "";
  const parser = createSseParser({
    onEvent: (e) => events.push({ type: e.event ?? "message", data: e.data, lastEventId }),
    onRetry: (ms) => retries.push(ms),
    onLastEventId: (id) => {
      lastEventId = id;
    },
  });
  for (const chunk of splitAt(bytes, cuts)) parser.feedBytes(chunk);
  return { events, retries, lastEventId };
}

/** `message.py?message=…` with its default newline ("\n\n") or `newline=none`, plus its final "\n". */
const messagePy = (message: string, newline = "\n\n") => `${message}${newline}\n`;

const ev = (data: string, lastEventId = "", type = "message") => ({ type, data, lastEventId });

const CASES: { name: string; bytes: Uint8Array; want: Partial<Seen> }[] = [
  {
    name: "format-bom: a BOM only at stream start; a second one makes its line an unknown field",
    bytes: utf8(messagePy("\uFEFFdata:1\n\n\uFEFFdata:2\n\ndata:3")),
    want: { events: [ev("1"), ev("3")] },
  },
  {
    name: "format-bom-2: of two BOMs at the start only the first is stripped",
    bytes: utf8(messagePy("\uFEFF\uFEFFdata:1\n\ndata:2\n\ndata:3")),
    want: { events: [ev("2"), ev("3")] },
  },
  {
    name: "format-comments: comments with CR, LF, CRLF, NUL and 2 KB bodies between data lines",
    bytes: utf8(messagePy(`data:1\r:\0\n:\r\ndata:2\n:${"x".repeat(2048)}\rdata:3\n:data:fail\r:${"x".repeat(2048)}\ndata:4\n`, "")),
    want: { events: [ev("1\n2\n3\n4")] },
  },
  {
    name: "format-data-before-final-empty-line: an unfinished last block is not dispatched",
    bytes: utf8(messagePy("retry:1000\ndata:test1\n\nid:test\ndata:test2", "")),
    want: { events: [ev("test1")], retries: [1000], lastEventId: "" },
  },
  {
    name: "format-field-data: empty data, data without a colon, two empty data lines",
    bytes: utf8(messagePy("data:\n\ndata\ndata\n\ndata:test")),
    want: { events: [ev(""), ev("\n"), ev("test")] },
  },
  {
    name: "format-field-event: a custom event name, then the default",
    bytes: utf8(messagePy("event:test\ndata:x\n\ndata:x")),
    want: { events: [ev("x", "", "test"), ev("x")] },
  },
  {
    name: "format-field-event-empty: an empty event field means message",
    bytes: utf8(messagePy("event: \ndata:data")),
    want: { events: [ev("data")] },
  },
  {
    name: "format-field-id (last-event-id.py): a non-ASCII id (U+2026) is the event's lastEventId",
    bytes: utf8("id: …\nretry: 200\ndata: hello\n\n"),
    want: { events: [ev("hello", "…")], retries: [200], lastEventId: "…" },
  },
  {
    name: "format-field-id-null: an id containing U+0000 is ignored",
    bytes: utf8("id: \0\0\nretry: 200\ndata: hello\n\n"),
    want: { events: [ev("hello", "")], lastEventId: "" },
  },
  {
    name: "format-field-id-3 persists: the last event ID carries over to events without an id",
    bytes: utf8("id: 1\ndata: 1\n\ndata:2\n\n"),
    want: { events: [ev("1", "1"), ev("2", "1")], lastEventId: "1" },
  },
  {
    name: "format-field-id-3 changes and persists",
    bytes: utf8("id: 1\ndata: 1\n\nid: 2\ndata:2\n\ndata:3\n\n"),
    want: { events: [ev("1", "1"), ev("2", "2"), ev("3", "2")], lastEventId: "2" },
  },
  {
    name: "format-field-id-3 resets: an empty id field resets the last event ID",
    bytes: utf8("id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n"),
    want: { events: [ev("1", "1"), ev("2", ""), ev("3", "")], lastEventId: "" },
  },
  {
    name: "format-field-parsing: field names are exact and case-sensitive; NUL is data",
    bytes: utf8(messagePy("data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n")),
    want: { events: [ev("\0\n 2\n1\n3\n\n4")] },
  },
  {
    name: "format-field-retry: retry with a leading zero",
    bytes: utf8(messagePy("retry:03000\ndata:x")),
    want: { events: [ev("x")], retries: [3000] },
  },
  {
    name: "format-field-retry-bogus: retry with a non-digit is ignored",
    bytes: utf8(messagePy("retry:2000\nretry:1000x\ndata:x")),
    want: { events: [ev("x")], retries: [2000] },
  },
  {
    name: "format-field-retry-empty: retry without a value is ignored",
    bytes: utf8(messagePy("retry\ndata:test")),
    want: { events: [ev("test")], retries: [] },
  },
  {
    name: "format-field-unknown: unknown fields, a leading space and text without a colon are ignored",
    bytes: utf8(messagePy("data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test")),
    want: { events: [ev("test\n\ntest")] },
  },
  {
    name: "format-leading-space: only one U+0020 after the colon is stripped, never a tab",
    bytes: utf8(messagePy("data:\ttest\rdata: \ndata:test")),
    want: { events: [ev("\ttest\n\ntest")] },
  },
  {
    name: "format-newlines: CRLF, LF and CR line ends in one block",
    bytes: utf8(messagePy("data:test\r\ndata\ndata:test\r\n\r", "")),
    want: { events: [ev("test\n\ntest")] },
  },
  {
    name: "format-null-character: NUL in data is kept",
    bytes: utf8(messagePy("data:\0", "\n\n")),
    want: { events: [ev("\0")] },
  },
  {
    name: "format-utf-8: the stream is UTF-8 whatever the Content-Type's charset says",
    bytes: Uint8Array.of(...utf8("data:ok"), 0xe2, 0x80, 0xa6, ...utf8("\n\n\n")),
    want: { events: [ev("ok…")] },
  },
];

describe("web-platform-tests eventsource/format-* as byte streams", () => {
  for (const { name, bytes, want } of CASES) {
    it(name, () => {
      const whole = browse(bytes, []);
      for (const [key, value] of Object.entries(want)) expect(whole[key as keyof Seen], key).toEqual(value);
      const oneByOne = Array.from({ length: bytes.length }, (_, i) => i);
      expect(browse(bytes, oneByOne)).toEqual(whole);
      expect(browse(bytes, oneByOne.filter((i) => i % 3 === 0))).toEqual(whole);
    });
  }
});

describe("§9.2.6 rules beyond the WPT cases", () => {
  it("an id-only block sets the last event ID without dispatching an event", () => {
    const seen = browse(utf8("id: 7\n\ndata: a\n\nid: 8\n\n"), []);
    expect(seen.events).toEqual([ev("a", "7")]);
    expect(seen.lastEventId).toBe("8");
  });

  it("a CR at the very end of the stream still ends its line and the block", () => {
    expect(browse(utf8("data: x\r\r"), []).events).toEqual([ev("x")]);
  });

  it("an id in an unfinished last block never becomes the last event ID", () => {
    expect(browse(utf8("id: 1\ndata: a\n\nid: 2\ndata: b"), []).lastEventId).toBe("1");
  });

  it("forgets the id of a block cut by reset() (a reconnect) and strips the new stream's BOM", () => {
    const ids: string[] = [];
    const data: string[] = [];
    const parser = createSseParser({ onEvent: (e) => data.push(e.data), onLastEventId: (id) => ids.push(id) });
    parser.feedBytes(utf8("id: 1\ndata: a\n\nid: 2\ndata: half"));
    parser.reset();
    parser.feedBytes(utf8("\uFEFFdata: b\n\n"));
    expect(data).toEqual(["a", "b"]);
    expect(ids).toEqual(["1"]);
  });
});
