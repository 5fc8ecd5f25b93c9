import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createSseFrameDecoder, decodeServerFrame, encodeFrame, type ServerFrame } from "@throughline/wire";
import { Envelope, serializeData } from "../src/envelope.js";

describe("Envelope", () => {
  it("property: its cached JSON frame equals the wire encoder's and its SSE block decodes to the same message", () => {
    const topic = fc.stringMatching(/^[A-Za-z0-9_.:/-]{1,20}$/);
    const event = fc.oneof(fc.constant("message"), fc.string({ minLength: 1, maxLength: 10 }).filter((s) => !/[\r\n\u0000]/.test(s)));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), topic, event, fc.option(fc.jsonValue(), { nil: undefined }), (seq, t, ev, data) => {
        const env = new Envelope("ep0ch", seq, t, ev, serializeData(data), 0);
        const frame = { type: "message" as const, id: `ep0ch-${seq}`, topic: t, event: ev, data };
        expect(env.json).toBe(encodeFrame(frame));
        expect(env.jsonBuffer.toString("utf8")).toBe(env.json);
        expect(decodeServerFrame(env.json)).toEqual(JSON.parse(encodeFrame(frame)));
        const got: ServerFrame[] = [];
        const dec = createSseFrameDecoder({ onFrame: (f) => got.push(f), onError: (e) => { throw e; } });
        dec.feedBytes(env.sseBuffer);
        expect(got).toEqual([JSON.parse(JSON.stringify(frame))]);
        // Encodings are computed once and reused for every subscriber.
        expect(env.sseBuffer).toBe(env.sseBuffer);
        expect(env.jsonBuffer).toBe(env.jsonBuffer);
      }),
      { numRuns: 300 },
    );
  });
});
