import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ALL_TOPICS,
  CONTROL_EVENT_PREFIX,
  MAX_TOPICS_PER_CONNECTION,
  RESERVED_EVENTS,
  assertEventName,
  assertTopic,
  formatTopics,
  isTopic,
  parseTopics,
} from "@throughline/wire";
import { expectThroughlineError, topicArb } from "./helpers.js";

const NUM_RUNS = Number(process.env.TL_FC_RUNS ?? 200);
const topicList = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`).join(",");

describe("parseTopics", () => {
  it.each([
    ["missing (undefined)", undefined],
    ["missing (null)", null],
    ["empty", ""],
    ["*", "*"],
  ])("means all topics when the value is %s", (_name, value) => {
    expect(parseTopics(value)).toEqual([ALL_TOPICS]);
    expect(ALL_TOPICS).toBe("*");
  });

  it("splits on commas and keeps the order", () => {
    expect(parseTopics("b,a,c")).toEqual(["b", "a", "c"]);
  });

  it("accepts every allowed character", () => {
    expect(parseTopics("Chat/room-1:x.y_Z,0")).toEqual(["Chat/room-1:x.y_Z", "0"]);
  });

  it("drops duplicates, keeping the first occurrence", () => {
    expect(parseTopics("a,b,a,b,c")).toEqual(["a", "b", "c"]);
  });

  it.each([
    ["a space", "a b"],
    ["an empty element", "a,,b"],
    ["a trailing comma", "a,"],
    ["a lone comma", ","],
    ["a non-ASCII letter", "café"],
    ["a semicolon", "a;b"],
    ["* mixed with topics", "*,a"],
    ["a percent-escape", "a%2Cb"],
    ["a topic of 129 characters", "x".repeat(129)],
    ["a NUL", "a\u0000"],
  ])("rejects %s with TL_BAD_TOPIC and status 400", (_name, value) => {
    expectThroughlineError(() => parseTopics(value), "TL_BAD_TOPIC", 400);
  });

  it("accepts a topic of exactly 128 characters", () => {
    expect(parseTopics("x".repeat(128))).toEqual(["x".repeat(128)]);
  });

  it("does not echo a huge invalid topic back in the message", () => {
    const err = expectThroughlineError(() => parseTopics("!".repeat(100_000)), "TL_BAD_TOPIC", 400);
    expect(err.message.length).toBeLessThan(200);
  });

  it(`accepts ${MAX_TOPICS_PER_CONNECTION} topics and rejects one more`, () => {
    expect(parseTopics(topicList(MAX_TOPICS_PER_CONNECTION))).toHaveLength(MAX_TOPICS_PER_CONNECTION);
    const err = expectThroughlineError(() => parseTopics(topicList(MAX_TOPICS_PER_CONNECTION + 1)), "TL_BAD_TOPIC", 400);
    expect(err.message).toContain("too many topics");
  });

  it("counts topics after dropping duplicates, against a custom maximum", () => {
    expect(parseTopics("a,b,a,b", 2)).toEqual(["a", "b"]);
    expectThroughlineError(() => parseTopics("a,b,c", 2), "TL_BAD_TOPIC", 400);
  });

  it("rejects a huge list quickly with TL_BAD_TOPIC", () => {
    expectThroughlineError(() => parseTopics(topicList(100_000)), "TL_BAD_TOPIC", 400);
  });

  it("round-trips any list of valid topics through formatTopics", () => {
    fc.assert(
      fc.property(fc.uniqueArray(topicArb, { minLength: 1, maxLength: 20 }), (topics) => {
        expect(parseTopics(formatTopics(topics))).toEqual(topics);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("formatTopics, isTopic and assertTopic", () => {
  it("formats no topics as all topics", () => {
    expect(formatTopics(undefined)).toBe("*");
    expect(formatTopics([])).toBe("*");
    expect(formatTopics(["a", "b"])).toBe("a,b");
  });

  it("tells valid topic names from invalid ones", () => {
    expect(isTopic("a")).toBe(true);
    expect(isTopic("x".repeat(128))).toBe(true);
    for (const bad of ["", "*", "x".repeat(129), "a b", "a,b", "é"]) expect(isTopic(bad)).toBe(false);
  });

  it("throws TL_BAD_TOPIC without an HTTP status for an invalid topic (API misuse)", () => {
    expect(() => assertTopic("chat/1")).not.toThrow();
    for (const bad of ["", "*", "a b", "x".repeat(129)]) expectThroughlineError(() => assertTopic(bad), "TL_BAD_TOPIC");
  });

  it("throws TL_BAD_TOPIC, not a TypeError, for a non-string topic", () => {
    for (const bad of [undefined, null, 1, {}, Symbol("t")]) {
      expectThroughlineError(() => assertTopic(bad as unknown as string), "TL_BAD_TOPIC");
    }
  });
});

describe("assertEventName", () => {
  it.each(["message", "chat.new", "a", "ünïcödé 😀", "x".repeat(128), "TL:upper", "tl", "open2", "with space"])("accepts %j", (name) => {
    expect(() => assertEventName(name)).not.toThrow();
  });

  it.each([
    ["empty", ""],
    ["129 characters", "x".repeat(129)],
    ["NUL", "a\u0000"],
    ["LF", "a\nb"],
    ["CR", "a\rb"],
    ["TAB", "a\tb"],
    ["ESC", "\u001b[31m"],
    ["DEL", "a\u007f"],
  ])("rejects a name with %s", (_name, name) => {
    const err = expectThroughlineError(() => assertEventName(name), "TL_BAD_EVENT");
    expect(err.message).toContain("1–128 printable characters");
  });

  it.each([...RESERVED_EVENTS])("rejects the reserved name %j", (name) => {
    const err = expectThroughlineError(() => assertEventName(name), "TL_BAD_EVENT");
    expect(err.message).toContain("reserved");
  });

  it("reserves the client's lifecycle events", () => {
    expect([...RESERVED_EVENTS].sort()).toEqual(["*", "attempt", "close", "error", "gap", "open", "state", "transport"]);
  });

  it.each(["tl:", "tl:hello", "tl:anything"])("rejects %j because it starts with the control prefix", (name) => {
    expect(name.startsWith(CONTROL_EVENT_PREFIX)).toBe(true);
    expectThroughlineError(() => assertEventName(name), "TL_BAD_EVENT");
  });

  it("throws TL_BAD_EVENT, not a TypeError, for a non-string name", () => {
    for (const bad of [undefined, null, 1, {}, Symbol("e")]) {
      expectThroughlineError(() => assertEventName(bad as unknown as string), "TL_BAD_EVENT");
    }
  });

  it("does not echo a huge name back in the message", () => {
    const err = expectThroughlineError(() => assertEventName("x".repeat(100_000)), "TL_BAD_EVENT");
    expect(err.message.length).toBeLessThan(200);
  });
});
