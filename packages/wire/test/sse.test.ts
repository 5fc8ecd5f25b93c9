import { describe, expect, it } from "vitest";
import {
  createSseFrameReader,
  encodeSseControl,
  encodeSseEvent,
  encodeSseHeartbeat,
  encodeSseMessage,
  encodeSsePadding,
  sseEventToFrame,
  type HelloFrame,
  type ServerFrame,
  type ThroughlineError,
} from "@throughline/wire";
import { expectThroughlineError, recordFrames, recordSse, utf8 } from "./helpers.js";

const hello: HelloFrame = {
  type: "hello",
  session: "s1",
  transport: "sse",
  heartbeatMs: 15000,
  time: 1700000000000,
  cursor: "ep1-0",
  retryMs: 2000,
};

describe("SSE encoders (golden bytes)", () => {
  it("encodes a default-event message without an event line", () => {
    expect(encodeSseMessage("ep1-5", "chat", "message", '{"x":1}')).toBe('id: ep1-5\ndata: {"topic":"chat","data":{"x":1}}\n\n');
  });

  it("encodes a named-event message with an event line between id and data", () => {
    expect(encodeSseMessage("ep1-6", "room/1", "typing", '"hi"')).toBe('id: ep1-6\nevent: typing\ndata: {"topic":"room/1","data":"hi"}\n\n');
  });

  it("encodes a message without data as a payload without a data key", () => {
    expect(encodeSseMessage("ep1-7", "t", "message", undefined)).toBe('id: ep1-7\ndata: {"topic":"t"}\n\n');
  });

  it("encodes a control frame as a tl: event with the frame as JSON", () => {
    expect(encodeSseControl(hello)).toBe(
      'event: tl:hello\ndata: {"type":"hello","session":"s1","transport":"sse","heartbeatMs":15000,"time":1700000000000,"cursor":"ep1-0","retryMs":2000}\n\n',
    );
    expect(encodeSseControl({ type: "gap", topic: "*", reason: "epoch", cursor: "ep2-9" })).toBe(
      'event: tl:gap\ndata: {"type":"gap","topic":"*","reason":"epoch","cursor":"ep2-9"}\n\n',
    );
    expect(encodeSseControl({ type: "close", code: 1001, reason: "bye" })).toBe(
      'event: tl:close\ndata: {"type":"close","code":1001,"reason":"bye"}\n\n',
    );
  });

  it("puts a retry field first when a control frame is encoded with retryMs, flooring and clamping it", () => {
    expect(encodeSseControl({ type: "probe", seq: 3, time: 5 }, 2500)).toBe('retry: 2500\nevent: tl:probe\ndata: {"type":"probe","seq":3,"time":5}\n\n');
    expect(encodeSseControl({ type: "probe", seq: 3, time: 5 }, 2500.9)).toMatch(/^retry: 2500\n/);
    expect(encodeSseControl({ type: "probe", seq: 3, time: 5 }, -10)).toMatch(/^retry: 0\n/);
  });

  it("encodes a heartbeat as an hb comment carrying the time", () => {
    expect(encodeSseHeartbeat(1700000000123)).toBe(":hb 1700000000123\n\n");
  });

  it("encodes the padding as one comment of 2048 spaces by default", () => {
    expect(encodeSsePadding()).toBe(`:${" ".repeat(2048)}\n\n`);
    expect(encodeSsePadding(3)).toBe(":   \n\n");
    expect(encodeSsePadding(0)).toBe(":\n\n");
    expect(encodeSsePadding(-5)).toBe(":\n\n");
  });

  it("encodes an event with id, event and retry in a fixed order", () => {
    expect(encodeSseEvent({ retry: 1500, id: "7", event: "x", data: "y" })).toBe("retry: 1500\nid: 7\nevent: x\ndata: y\n\n");
  });

  it("leaves out the event line for the default message event", () => {
    expect(encodeSseEvent({ event: "message", data: "y" })).toBe("data: y\n\n");
  });

  it("splits multi-line data on LF, CR and CRLF alike", () => {
    expect(encodeSseEvent({ data: "a\nb\rc\r\nd" })).toBe("data: a\ndata: b\ndata: c\ndata: d\n\n");
    expect(encodeSseEvent({ data: "a\n\r\n" })).toBe("data: a\ndata: \ndata: \n\n");
    expect(encodeSseEvent({ data: "\r\r" })).toBe("data: \ndata: \ndata: \n\n");
  });

  it("encodes empty data as one empty data line, so the event is still dispatched", () => {
    expect(encodeSseEvent({ data: "" })).toBe("data: \n\n");
  });

  it("rejects an id or event name containing CR, LF or NUL with TL_BAD_EVENT", () => {
    for (const bad of ["a\rb", "a\nb", "a\r\nb", "a\u0000b", "\n"]) {
      expectThroughlineError(() => encodeSseEvent({ id: bad, data: "x" }), "TL_BAD_EVENT");
      expectThroughlineError(() => encodeSseEvent({ event: bad, data: "x" }), "TL_BAD_EVENT");
    }
  });
});

describe("createSseParser (WHATWG conformance)", () => {
  it("strips a UTF-8 BOM at the start of the byte stream", () => {
    const r = recordSse();
    r.parser.feedBytes(utf8("\uFEFFdata: a\n\n"));
    expect(r.events).toEqual([{ event: undefined, data: "a" }]);
  });

  it("strips only the first BOM: a second one makes the first line an unknown field", () => {
    const r = recordSse();
    r.parser.feedBytes(utf8("\uFEFF\uFEFFdata: a\n\ndata: b\n\n"));
    expect(r.events.map((e) => e.data)).toEqual(["b"]);
  });

  it("strips a BOM whose bytes arrive in separate chunks", () => {
    const r = recordSse();
    const bytes = utf8("\uFEFFdata: a\n\n");
    r.parser.feedBytes(bytes.subarray(0, 1));
    r.parser.feedBytes(bytes.subarray(1, 2));
    r.parser.feedBytes(bytes.subarray(2));
    expect(r.events.map((e) => e.data)).toEqual(["a"]);
  });

  it("strips the BOM of a new stream after reset()", () => {
    const r = recordSse();
    r.parser.feedBytes(utf8("\uFEFFdata: a\n\n"));
    r.parser.reset();
    r.parser.feedBytes(utf8("\uFEFFdata: b\n\n"));
    expect(r.events.map((e) => e.data)).toEqual(["a", "b"]);
  });

  it("accepts LF, CR and CRLF line ends, also mixed in one stream", () => {
    const r = recordSse();
    r.parser.feed("data: lf\n\ndata: cr\r\rdata: crlf\r\n\r\ndata: mixed\rdata: two\n\r\n");
    expect(r.events.map((e) => e.data)).toEqual(["lf", "cr", "crlf", "mixed\ntwo"]);
  });

  it("treats a CRLF split across two text chunks as one line end", () => {
    const r = recordSse();
    r.parser.feed("data: a\r");
    r.parser.feed("\ndata: b\r\n\r\n");
    expect(r.events.map((e) => e.data)).toEqual(["a\nb"]);
  });

  it("treats a CRLF split across two byte chunks as one line end", () => {
    const r = recordSse();
    r.parser.feedBytes(utf8("data: a\r"));
    r.parser.feedBytes(utf8("\n"));
    r.parser.feedBytes(utf8("data: b\r"));
    r.parser.feedBytes(utf8("\n\r"));
    r.parser.feedBytes(utf8("\n"));
    expect(r.events.map((e) => e.data)).toEqual(["a\nb"]);
  });

  it("reports the id of the block and ignores an id field containing NUL", () => {
    const r = recordSse();
    r.parser.feed("id: 1\nid: x\u0000y\ndata: a\n\nid: z\u0000\ndata: b\n\nid: 2\ndata: c\n\n");
    expect(r.events).toEqual([
      { id: "1", event: undefined, data: "a" },
      { event: undefined, data: "b" },
      { id: "2", event: undefined, data: "c" },
    ]);
  });

  it("reports an empty id field as the empty string", () => {
    const r = recordSse();
    r.parser.feed("id\ndata: a\n\nid:\ndata: b\n\n");
    expect(r.events.map((e) => e.id)).toEqual(["", ""]);
  });

  it("accepts retry only when it is all ASCII digits", () => {
    const r = recordSse();
    r.parser.feed("retry: 12a\nretry: 1500\nretry: -1\nretry: 1.5\nretry: \u0661\u0662\nretry:\nretry: 0\nretry:42\n\n");
    expect(r.retries).toEqual([1500, 0, 42]);
    expect(r.events).toEqual([]);
  });

  it("treats a line without a colon as a field name with an empty value", () => {
    const r = recordSse();
    r.parser.feed("data\n\nfoo\ndata: x\n\nevent\ndata: y\n\n");
    expect(r.events).toEqual([
      { event: undefined, data: "" },
      { event: undefined, data: "x" },
      { event: undefined, data: "y" },
    ]);
  });

  it("strips exactly one space after the colon of data, and none when there is none", () => {
    const r = recordSse();
    r.parser.feed("data:x\n\ndata: x\n\ndata:  x\n\ndata:\tx\n\n");
    expect(r.events.map((e) => e.data)).toEqual(["x", "x", " x", "\tx"]);
  });

  it("joins multiple data lines with LF, keeping empty lines", () => {
    const r = recordSse();
    r.parser.feed("data: a\ndata: b\ndata:\ndata: c\n\n");
    expect(r.events.map((e) => e.data)).toEqual(["a\nb\n\nc"]);
  });

  it("reports the event type, and the default for an empty event field", () => {
    const r = recordSse();
    r.parser.feed("event: x\ndata: 1\n\nevent:\ndata: 2\n\nevent: a\nevent: b\ndata: 3\n\n");
    expect(r.events.map((e) => e.event)).toEqual(["x", undefined, "b"]);
  });

  it("never dispatches a block without data lines", () => {
    const r = recordSse();
    r.parser.feed("id: 5\n\nevent: x\n\n\n\n: only a comment\n\n");
    expect(r.events).toEqual([]);
  });

  it("never dispatches an unfinished last block", () => {
    const r = recordSse();
    r.parser.feed("data: done\n\ndata: a\ndata: b\n");
    r.parser.feed("data: c");
    expect(r.events.map((e) => e.data)).toEqual(["done"]);
  });

  it("passes comments to onComment without the colon and one leading space", () => {
    const r = recordSse();
    r.parser.feed(": hello\n:x\n:  two\n:\ndata: a\n\n");
    expect(r.comments).toEqual(["hello", "x", " two", ""]);
    expect(r.events.map((e) => e.data)).toEqual(["a"]);
  });

  it("drops a partial block on reset(), so the next stream starts clean", () => {
    const r = recordSse();
    r.parser.feed("id: 9\nevent: x\ndata: a\n");
    r.parser.reset();
    r.parser.feed("\ndata: b\n\n");
    expect(r.events).toEqual([{ event: undefined, data: "b" }]);
  });

  it("drops a partial line on reset()", () => {
    const r = recordSse();
    r.parser.feed("data: a\n\ndata: par");
    r.parser.reset();
    r.parser.feed("tial\n\ndata: c\n\n");
    expect(r.events.map((e) => e.data)).toEqual(["a", "c"]);
  });

  it("drops half a UTF-8 sequence on reset()", () => {
    const r = recordSse();
    const emoji = utf8("😀");
    r.parser.feedBytes(utf8("data: "));
    r.parser.feedBytes(emoji.subarray(0, 2));
    r.parser.reset();
    r.parser.feedBytes(utf8("data: é\n\n"));
    expect(r.events.map((e) => e.data)).toEqual(["é"]);
  });

  it.each([1, 2, 3])("reassembles an emoji split after %i of its 4 UTF-8 bytes", (cut) => {
    const r = recordSse();
    const bytes = utf8("data: a😀b\n\n");
    const at = "data: a".length + cut;
    r.parser.feedBytes(bytes.subarray(0, at));
    r.parser.feedBytes(bytes.subarray(at));
    expect(r.events.map((e) => e.data)).toEqual(["a😀b"]);
  });

  it("reassembles 2- and 3-byte sequences fed one byte at a time", () => {
    const r = recordSse();
    for (const b of utf8("event: café\ndata: 5 €\n\n")) r.parser.feedBytes(Uint8Array.of(b));
    expect(r.events).toEqual([{ event: "café", data: "5 €" }]);
  });

  it("turns invalid UTF-8 into U+FFFD instead of throwing", () => {
    const r = recordSse();
    r.parser.feedBytes(Uint8Array.of(...utf8("data: a"), 0xff, 0xc3, ...utf8("b\n\n")));
    expect(r.events.map((e) => e.data)).toEqual(["a\uFFFD\uFFFDb"]);
  });
});

describe("createSseFrameDecoder", () => {
  it("decodes messages with their id, topic, event and data", () => {
    const r = recordFrames();
    r.decoder.feed(encodeSseMessage("ep1-1", "chat", "message", '{"text":"hi"}'));
    r.decoder.feed(encodeSseMessage("ep1-2", "chat", "typing", "null"));
    r.decoder.feed(encodeSseMessage("ep1-3", "chat", "message", undefined));
    expect(r.frames).toEqual([
      { type: "message", id: "ep1-1", topic: "chat", event: "message", data: { text: "hi" } },
      { type: "message", id: "ep1-2", topic: "chat", event: "typing", data: null },
      { type: "message", id: "ep1-3", topic: "chat", event: "message", data: undefined },
    ]);
    expect(r.errors).toEqual([]);
  });

  it("decodes control frames and reports the hello's retry", () => {
    const r = recordFrames();
    r.decoder.feed(encodeSseControl(hello, 2000));
    r.decoder.feed(encodeSseControl({ type: "gap", topic: "chat", reason: "evicted", cursor: "ep1-4" }));
    r.decoder.feed(encodeSseControl({ type: "probe", seq: 1, time: 2 }));
    r.decoder.feed(encodeSseControl({ type: "close", code: 4409, reason: "replaced" }));
    expect(r.frames).toEqual([
      hello,
      { type: "gap", topic: "chat", reason: "evicted", cursor: "ep1-4" },
      { type: "probe", seq: 1, time: 2 },
      { type: "close", code: 4409, reason: "replaced" },
    ]);
    expect(r.retries).toEqual([2000]);
    expect(r.errors).toEqual([]);
  });

  it("turns heartbeat comments into heartbeat frames, not comments", () => {
    const r = recordFrames();
    r.decoder.feed(encodeSseHeartbeat(1700000000123));
    expect(r.frames).toEqual([{ type: "heartbeat", time: 1700000000123 }]);
    expect(r.comments).toEqual([]);
  });

  it("passes the padding and other comments to onComment", () => {
    const r = recordFrames();
    r.decoder.feed(encodeSsePadding());
    r.decoder.feed(": hb 5\n:hb x\n:hb 12345678901234567\n\n");
    // The spec consumes one space after the colon: 2048 spaces arrive as 2047, ": hb 5" is "hb 5".
    expect(r.comments).toEqual([" ".repeat(2047), "hb x", "hb 12345678901234567"]);
    expect(r.frames).toEqual([{ type: "heartbeat", time: 5 }]);
  });

  it.each([
    ["data that is not JSON", "id: ep1-1\ndata: <html>502 Bad Gateway</html>\n\n"],
    ["a message without an id", 'data: {"topic":"chat","data":1}\n\n'],
    ["a message whose payload is not an object", "id: ep1-1\ndata: 5\n\n"],
    ["a message whose payload is null", "id: ep1-1\ndata: null\n\n"],
    ["a message without a topic", 'id: ep1-1\ndata: {"data":1}\n\n'],
    ["a message with a numeric topic", 'id: ep1-1\ndata: {"topic":7}\n\n'],
    ["a control event with invalid JSON", "event: tl:hello\ndata: {\n\n"],
    ["a control event whose frame has another type", 'event: tl:gap\ndata: {"type":"close","code":1000,"reason":""}\n\n'],
    ["a control event with a malformed frame", 'event: tl:close\ndata: {"type":"close","code":"1000","reason":""}\n\n'],
    ["an unknown control event", 'event: tl:nope\ndata: {"type":"nope"}\n\n'],
  ])("reports %s as TL_BAD_FRAME and keeps parsing", (_name, block) => {
    const r = recordFrames();
    r.decoder.feed(block);
    r.decoder.feed(encodeSseMessage("ep1-2", "chat", "message", "1"));
    expect(r.errors).toHaveLength(1);
    const err = r.errors[0]!;
    expect(err.code).toBe("TL_BAD_FRAME");
    expect(err.message.startsWith("Throughline: ")).toBe(true);
    expect(r.frames).toEqual([{ type: "message", id: "ep1-2", topic: "chat", event: "message", data: 1 }]);
  });

  it("keeps the JSON parse error as the cause of a TL_BAD_FRAME", () => {
    const err = expectThroughlineError(() => sseEventToFrame({ id: "e-1", data: "{" }), "TL_BAD_FRAME");
    expect(err.cause).toBeInstanceOf(SyntaxError);
  });

  it("decodes a whole stream fed as bytes", () => {
    const r = recordFrames();
    const stream =
      encodeSsePadding() +
      encodeSseControl(hello, 2000) +
      encodeSseMessage("ep1-1", "a", "message", '"é😀"') +
      encodeSseHeartbeat(9) +
      encodeSseControl({ type: "close", code: 1001, reason: "shutdown" });
    r.decoder.feedBytes(utf8(stream));
    expect(r.frames.map((f) => f.type)).toEqual(["hello", "message", "heartbeat", "close"]);
    expect(r.frames[1]).toMatchObject({ data: "é😀" });
    expect(r.errors).toEqual([]);
  });
});

describe("createSseFrameReader (the client's decoder)", () => {
  it("yields the same frames and errors as createSseFrameDecoder, without comments or retry", () => {
    const stream =
      encodeSsePadding() +
      encodeSseControl(hello, 2000) +
      encodeSseMessage("ep1-1", "a", "message", '"é😀"') +
      "id: ep1-2\n\n" + // an id-only block: no frame
      encodeSseHeartbeat(9) +
      "event: tl:hello\ndata: {}\n\n" +
      encodeSseControl({ type: "close", code: 1001, reason: "shutdown" });
    const r = recordFrames();
    r.decoder.feedBytes(utf8(stream));
    const frames: ServerFrame[] = [];
    const errors: ThroughlineError[] = [];
    const reader = createSseFrameReader((f) => frames.push(f), (e) => errors.push(e));
    reader.feedBytes(utf8(stream));
    expect(frames).toEqual(r.frames);
    expect(frames.map((f) => f.type)).toEqual(["hello", "message", "heartbeat", "close"]);
    expect(errors.map((e) => e.code)).toEqual(["TL_BAD_FRAME"]);
    expect(r.errors.map((e) => e.code)).toEqual(["TL_BAD_FRAME"]);
  });
});
