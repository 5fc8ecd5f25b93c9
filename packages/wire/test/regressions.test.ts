/**
 * Regressions found while testing the wire package, one named test each.
 */
import { describe, expect, it } from "vitest";
import { assertEventName, createSseParser, encodeSseEvent, type SseEvent } from "@throughline/wire";
import { expectThroughlineError } from "./helpers.js";

describe("wire regressions", () => {
  it("strips a U+FEFF byte-order mark at the start of decoded text fed with feed()", () => {
    const events: SseEvent[] = [];
    const p = createSseParser({ onEvent: (e) => events.push(e) });
    p.feed("\ufeffdata: first\n\n");
    p.feed("\ufeffdata: second\n\n"); // only the stream's first BOM is stripped
    expect(events.map((e) => e.data)).toEqual(["first"]);
  });

  it("keeps parsing the rest of a chunk when an event callback throws", async () => {
    const seen: string[] = [];
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on("uncaughtException", onUncaught);
    try {
      const p = createSseParser({
        onEvent: (e) => {
          seen.push(e.data);
          if (e.data === "1") throw new Error("listener bug");
        },
      });
      p.feed("data: 1\n\ndata: 2\n\ndata: 3\n\n");
      expect(seen).toEqual(["1", "2", "3"]);
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.off("uncaughtException", onUncaught);
    }
    expect(uncaught).toHaveLength(1);
  });

  it("refuses event names with lone surrogates, which SSE's UTF-8 would turn into U+FFFD", () => {
    expectThroughlineError(() => assertEventName("bad\ud800name"), "TL_BAD_EVENT");
    expect(() => assertEventName("emoji 🌍 ok")).not.toThrow();
  });

  it("writes no retry field for a retry that is not a finite number", () => {
    expect(encodeSseEvent({ data: "x", retry: Number.NaN })).toBe("data: x\n\n");
  });
});
