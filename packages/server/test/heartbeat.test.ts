import { describe, expect, it } from "vitest";
import * as wsLib from "ws";
import { decodeServerFrame, encodeFrame } from "@throughline/wire";
import { Heartbeat } from "../src/heartbeat.js";

/** `ws`'s frame parser (exported by ws 8, not declared by @types/ws). */
interface FrameReceiver {
  on(event: string, fn: (arg: never) => void): void;
  write(bytes: Buffer): void;
}
const Receiver = (wsLib as unknown as { Receiver: new (options: { isServer: boolean }) => FrameReceiver }).Receiver;

/** Frames a `ws` receiver (client side: unmasked server frames) reads from `bytes`. */
function readFrames(bytes: Buffer): Array<{ kind: string; data: string }> {
  const out: Array<{ kind: string; data: string }> = [];
  const r = new Receiver({ isServer: false });
  r.on("message", (d: Buffer) => out.push({ kind: "text", data: d.toString("utf8") }));
  r.on("ping", (d: Buffer) => out.push({ kind: "ping", data: d.toString("utf8") }));
  r.on("error", (e: Error) => out.push({ kind: "error", data: e.message }));
  r.write(bytes);
  return out;
}

describe("Heartbeat", () => {
  it("wsFrames is the heartbeat text frame then an empty ping, as a ws client reads them", () => {
    for (const time of [0, 1_700_000_000_123, 2 ** 52]) {
      const beat = new Heartbeat(time);
      const frames = readFrames(beat.wsFrames);
      expect(frames).toEqual([
        { kind: "text", data: encodeFrame({ type: "heartbeat", time }) },
        { kind: "ping", data: "" },
      ]);
      expect(decodeServerFrame(frames[0]!.data)).toEqual({ type: "heartbeat", time });
      // Built once per tick, shared by every connection.
      expect(beat.wsFrames).toBe(beat.wsFrames);
    }
  });
});
