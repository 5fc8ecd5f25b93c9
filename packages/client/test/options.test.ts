import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { DEFAULT_CONNECT_OPTIONS, DEFAULT_RECONNECT_OPTIONS, backoffDelay, connect, type ConnectOptions } from "@throughline/client";

describe("backoffDelay", () => {
  it("stays within [0, min(max, base·2^attempt)) for any attempt, base and max", () => {
    fc.assert(
      fc.property(fc.nat(100), fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 0, max: 120_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, base, max, r) => {
        const d = backoffDelay(attempt, base, max, () => r);
        const cap = Math.min(max, base * 2 ** attempt);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(Number.isInteger(d)).toBe(true);
        if (cap > 0) expect(d).toBeLessThan(cap);
        else expect(d).toBe(0);
      }),
    );
  });

  it("doubles its window with each attempt until the maximum", () => {
    const top = () => 0.999_999;
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, 100, 1000, top))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffDelay(5, 100, 1000, () => 0)).toBe(0);
  });
});

describe("connect options", () => {
  const url = "http://127.0.0.1:9/realtime";
  const bad: [string, string, ConnectOptions, string][] = [
    ["a ws: url", "ws://127.0.0.1:9/realtime", {}, "TL_INVALID_OPTION"],
    ["a relative url", "/realtime", {}, "TL_INVALID_OPTION"],
    ["a topic with a space", url, { topics: ["bad topic"] }, "TL_BAD_TOPIC"],
    ["an empty topic list", url, { topics: [] }, "TL_INVALID_OPTION"],
    ["an unknown transport", url, { transports: ["carrier-pigeon" as "sse"] }, "TL_INVALID_OPTION"],
    ["a duplicate transport", url, { transports: ["sse", "sse"] }, "TL_INVALID_OPTION"],
    ["no transports", url, { transports: [] }, "TL_INVALID_OPTION"],
    ["a zero connect timeout", url, { connectTimeoutMs: 0 }, "TL_INVALID_OPTION"],
    ["a NaN connect timeout", url, { connectTimeoutMs: Number.NaN }, "TL_INVALID_OPTION"],
    ["min delay above max delay", url, { reconnect: { minDelayMs: 500, maxDelayMs: 100 } }, "TL_INVALID_OPTION"],
    ["a numeric token", url, { token: 42 as unknown as string }, "TL_INVALID_OPTION"],
  ];
  it.each(bad)("rejects %s synchronously with a stable code", (_what, u, options, code) => {
    expect(() => connect(u, options)).toThrow(expect.objectContaining({ name: "ThroughlineError", code }));
  });

  it("exposes frozen defaults", () => {
    expect(Object.isFrozen(DEFAULT_CONNECT_OPTIONS)).toBe(true);
    expect(Object.isFrozen(DEFAULT_RECONNECT_OPTIONS)).toBe(true);
    expect(DEFAULT_CONNECT_OPTIONS).toMatchObject({
      topics: ["*"],
      transports: ["sse", "websocket", "long-poll"],
      connectTimeoutMs: 10_000,
      reconnect: { minDelayMs: 250, maxDelayMs: 30_000 },
    });
  });

  it("rejects a listener that is not a function", () => {
    const ch = connect(url, { transports: ["sse"], fetch: () => new Promise<Response>(() => {}) });
    try {
      expect(() => ch.on("open", "nope" as never)).toThrow(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
    } finally {
      ch.close();
    }
  });
});
