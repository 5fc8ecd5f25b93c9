import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ThroughlineError,
  asServerFrame,
  decodeClientFrames,
  decodePollBatch,
  decodeServerFrame,
  encodeFrame,
  encodePollBatch,
  isTransportName,
  type ClientFrame,
  type ServerFrame,
} from "@throughline/wire";
import { anyStringArb, expectThroughlineError, hostileUnit } from "./helpers.js";

const NUM_RUNS = Number(process.env.TL_FC_RUNS ?? 200);

const serverFrames: readonly ServerFrame[] = [
  { type: "message", id: "ep1-1", topic: "chat", event: "message", data: { text: "hi", n: [1, 2.5, null, true] } },
  { type: "message", id: "ep1-2", topic: "a/b", event: "typing", data: "\ud800 lone \r\n" },
  { type: "hello", session: "s1", transport: "sse", heartbeatMs: 15000, time: 1, cursor: "ep1-0", retryMs: 1000 },
  { type: "hello", session: "s2", transport: "websocket", heartbeatMs: 1, time: 2, cursor: "ep1-9", retryMs: 0 },
  { type: "hello", session: "s3", transport: "long-poll", heartbeatMs: 1, time: 2, cursor: "ep1-9", retryMs: 0, holdMs: 25000 },
  { type: "heartbeat", time: 1700000000000 },
  { type: "probe", seq: 4, time: 5 },
  { type: "gap", topic: "chat", reason: "evicted", cursor: "ep1-3" },
  { type: "gap", topic: "*", reason: "epoch", cursor: "ep2-0" },
  { type: "gap", topic: "*", reason: "invalid-cursor", cursor: "ep2-0" },
  { type: "close", code: 4409, reason: "replaced" },
];

const clientFrames: readonly ClientFrame[] = [
  { type: "message", data: { hello: "world" } },
  { type: "message", data: null },
  { type: "heartbeat", time: 12 },
  { type: "probe", seq: 3 },
  { type: "close" },
  { type: "close", code: 1000, reason: "bye" },
];

describe("server frames as JSON", () => {
  it.each(serverFrames.map((f) => [`${f.type} ${encodeFrame(f)}`, f] as const))("round-trips %s", (_name, frame) => {
    expect(decodeServerFrame(encodeFrame(frame))).toEqual(frame);
  });

  it("round-trips a long-poll batch of every frame type, in order", () => {
    expect(decodePollBatch(encodePollBatch(serverFrames.map(encodeFrame)))).toEqual(serverFrames);
  });

  it("decodes an empty long-poll batch to no frames", () => {
    expect(decodePollBatch(encodePollBatch([]))).toEqual([]);
    expect(encodePollBatch([])).toBe("[]");
  });

  it.each([
    ["not JSON", "<html>502</html>"],
    ["empty text", ""],
    ["truncated JSON", '{"type":"heartbeat","time":1'],
    ["null", "null"],
    ["a number", "42"],
    ["a string", '"hello"'],
    ["an array", "[]"],
    ["an object without type", '{"time":1}'],
    ["an unknown type", '{"type":"nope"}'],
    ["a message without id", '{"type":"message","topic":"t","event":"message"}'],
    ["a message with a numeric topic", '{"type":"message","id":"e-1","topic":1,"event":"message"}'],
    ["a message without event", '{"type":"message","id":"e-1","topic":"t"}'],
    ["a hello with an unknown transport", '{"type":"hello","session":"s","transport":"pigeon","heartbeatMs":1,"time":1,"cursor":"c","retryMs":1}'],
    ["a hello with a string holdMs", '{"type":"hello","session":"s","transport":"sse","heartbeatMs":1,"time":1,"cursor":"c","retryMs":1,"holdMs":"5"}'],
    ["a hello without retryMs", '{"type":"hello","session":"s","transport":"sse","heartbeatMs":1,"time":1,"cursor":"c"}'],
    ["a heartbeat with a string time", '{"type":"heartbeat","time":"1"}'],
    ["a heartbeat whose time overflows to Infinity", '{"type":"heartbeat","time":1e999}'],
    ["a probe without seq", '{"type":"probe","time":1}'],
    ["a gap with an unknown reason", '{"type":"gap","topic":"*","reason":"other","cursor":"c"}'],
    ["a close without reason", '{"type":"close","code":1000}'],
    ["a type that is not a string", '{"type":["message"]}'],
  ])("rejects %s as a server frame with TL_BAD_FRAME", (_name, text) => {
    expectThroughlineError(() => decodeServerFrame(text), "TL_BAD_FRAME");
  });

  it("keeps the JSON syntax error as the cause", () => {
    const err = expectThroughlineError(() => decodeServerFrame("{"), "TL_BAD_FRAME");
    expect(err.cause).toBeInstanceOf(SyntaxError);
  });

  it.each([
    ["not JSON", "Service Unavailable"],
    ["an object", '{"type":"heartbeat","time":1}'],
    ["null", "null"],
    ["an array with one bad element", `[${encodeFrame({ type: "heartbeat", time: 1 })},{"type":"nope"}]`],
    ["an array holding null", "[null]"],
    ["an array holding a nested array", `[[${encodeFrame({ type: "heartbeat", time: 1 })}]]`],
  ])("rejects %s as a long-poll batch with TL_BAD_FRAME", (_name, text) => {
    expectThroughlineError(() => decodePollBatch(text), "TL_BAD_FRAME");
  });

  it("rejects hugely nested JSON with TL_BAD_FRAME instead of overflowing the stack", () => {
    const depth = 200_000;
    const arrays = "[".repeat(depth) + "]".repeat(depth);
    const objects = '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
    const unclosed = "[".repeat(depth);
    for (const text of [arrays, objects, unclosed]) {
      expectThroughlineError(() => decodeServerFrame(text), "TL_BAD_FRAME");
      expectThroughlineError(() => decodePollBatch(text), "TL_BAD_FRAME");
    }
  });

  it("does not let a __proto__ key pollute Object.prototype", () => {
    const frame = decodeServerFrame('{"type":"message","id":"e-1","topic":"t","event":"message","data":{"__proto__":{"polluted":1}},"__proto__":{"polluted":2}}');
    expect(frame.type).toBe("message");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("asServerFrame returns undefined for non-frames instead of throwing", () => {
    for (const v of [undefined, null, 0, "x", [], [{ type: "heartbeat", time: 1 }], { type: "heartbeat", time: Number.NaN }]) {
      expect(asServerFrame(v)).toBeUndefined();
    }
    expect(asServerFrame({ type: "heartbeat", time: 1 })).toEqual({ type: "heartbeat", time: 1 });
  });

  it("recognizes exactly the three transport names", () => {
    expect(["sse", "websocket", "long-poll"].every(isTransportName)).toBe(true);
    for (const v of ["SSE", "ws", "longpoll", "", null, undefined, 1]) expect(isTransportName(v)).toBe(false);
  });
});

describe("client frames as JSON", () => {
  it.each(clientFrames.map((f) => [encodeFrame(f), f] as const))("round-trips %s as a single frame", (_name, frame) => {
    expect(decodeClientFrames(encodeFrame(frame))).toEqual([frame]);
  });

  it("round-trips an array of client frames, in order", () => {
    expect(decodeClientFrames(JSON.stringify(clientFrames))).toEqual(clientFrames);
  });

  it.each([
    ["not JSON", "hello"],
    ["empty text", ""],
    ["an empty array", "[]"],
    ["null", "null"],
    ["a number", "1"],
    ["an object without type", '{"data":1}'],
    ["a message without data", '{"type":"message"}'],
    ["a server-only frame type", '{"type":"hello","session":"s"}'],
    ["a heartbeat without time", '{"type":"heartbeat"}'],
    ["a probe with a string seq", '{"type":"probe","seq":"1"}'],
    ["a close with a string code", '{"type":"close","code":"1000"}'],
    ["a close with a numeric reason", '{"type":"close","reason":5}'],
    ["an array with one bad element", '[{"type":"message","data":1},{"type":"nope"}]'],
    ["an array holding null", "[null]"],
    ["hugely nested arrays", "[".repeat(100_000) + "]".repeat(100_000)],
  ])("rejects %s with TL_BAD_MESSAGE and status 400", (_name, text) => {
    expectThroughlineError(() => decodeClientFrames(text), "TL_BAD_MESSAGE", 400);
  });

  it("tells the sender what a valid frame looks like", () => {
    const err = expectThroughlineError(() => decodeClientFrames("[]"), "TL_BAD_MESSAGE", 400);
    expect(err.message).toContain('{"type":"message"');
    expect(err.toJSON()).toEqual({ error: { code: "TL_BAD_MESSAGE", message: err.message } });
  });
});

describe("JSON decoders on hostile input", () => {
  /** Text that is sometimes JSON, sometimes frame-shaped JSON with wrong fields, often garbage. */
  const hostileText = fc.oneof(
    anyStringArb(200),
    fc.jsonValue({ stringUnit: hostileUnit, maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc
      .record({
        type: fc.constantFrom("message", "hello", "heartbeat", "probe", "gap", "close", "nope"),
        extra: fc.dictionary(
          fc.constantFrom("id", "topic", "event", "data", "session", "transport", "heartbeatMs", "time", "cursor", "retryMs", "holdMs", "seq", "reason", "code"),
          fc.jsonValue({ maxDepth: 1 }),
        ),
      })
      .chain(({ type, extra }) => fc.constantFrom(JSON.stringify({ ...extra, type }), JSON.stringify([{ ...extra, type }]))),
  );

  /** Runs a decoder; anything thrown must be a ThroughlineError with the expected code. */
  const onlyThroughlineErrors = (decode: (text: string) => unknown, code: string) => (text: string) => {
    try {
      decode(text);
    } catch (err) {
      expect(err).toBeInstanceOf(ThroughlineError);
      expect((err as ThroughlineError).code).toBe(code);
    }
  };

  it("decodeServerFrame throws nothing but TL_BAD_FRAME", () => {
    fc.assert(fc.property(hostileText, onlyThroughlineErrors(decodeServerFrame, "TL_BAD_FRAME")), { numRuns: NUM_RUNS });
  });

  it("decodePollBatch throws nothing but TL_BAD_FRAME", () => {
    fc.assert(fc.property(hostileText, onlyThroughlineErrors(decodePollBatch, "TL_BAD_FRAME")), { numRuns: NUM_RUNS });
  });

  it("decodeClientFrames throws nothing but TL_BAD_MESSAGE", () => {
    fc.assert(fc.property(hostileText, onlyThroughlineErrors(decodeClientFrames, "TL_BAD_MESSAGE")), { numRuns: NUM_RUNS });
  });

  it("whatever decodeServerFrame accepts is a frame that encodes back to equivalent JSON", () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        let frame: ServerFrame;
        try {
          frame = decodeServerFrame(text);
        } catch {
          return;
        }
        expect(asServerFrame(frame)).toBe(frame);
        expect(JSON.parse(encodeFrame(frame))).toEqual(JSON.parse(text));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
