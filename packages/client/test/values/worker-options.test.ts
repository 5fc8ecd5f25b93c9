/**
 * Tab sharing through a SharedWorker: options cross by structured clone, which cannot carry the
 * transport values' functions, so their names cross instead (the worker bundles all three).
 */
import { describe, expect, it } from "vitest";
import { longPoll, sse } from "@throughline/client/core";
import { workerOptions } from "../../src/share/worker-protocol.js";

describe("workerOptions", () => {
  it("turns transport values into their names and keeps names and order", () => {
    const out = workerOptions({ topics: ["a"], transports: [longPoll, "websocket", sse] });
    expect(out).toEqual({ topics: ["a"], transports: ["long-poll", "websocket", "sse"] });
    expect(() => structuredClone(out)).not.toThrow();
  });

  it("leaves options without transports as they were", () => {
    expect(workerOptions({ topics: ["a"], negotiation: { staggerMs: 10 } })).toEqual({ topics: ["a"], negotiation: { staggerMs: 10 } });
  });
});
