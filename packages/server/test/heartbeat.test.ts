import { afterEach, describe, expect, it } from "vitest";
import * as wsLib from "ws";
import { decodeServerFrame, encodeFrame } from "@throughline/wire";
import { Heartbeat } from "../src/heartbeat.js";
import { HEARTBEAT_SLICE } from "../src/registry.js";
import { FakeClock, cleanup, openWs, start, waitFor } from "./helpers.js";

afterEach(cleanup);

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
  it("wsFrame is the heartbeat text frame and wsFramesWithPing adds an empty ping, as a ws client reads them", () => {
    for (const time of [0, 1_700_000_000_123, 2 ** 52]) {
      const beat = new Heartbeat(time);
      const text = { kind: "text", data: encodeFrame({ type: "heartbeat", time }) };
      expect(readFrames(beat.wsFrame)).toEqual([text]);
      expect(readFrames(beat.wsFramesWithPing)).toEqual([text, { kind: "ping", data: "" }]);
      expect(decodeServerFrame(text.data)).toEqual({ type: "heartbeat", time });
      // Built once per tick, shared by every connection.
      expect(beat.wsFramesWithPing).toBe(beat.wsFramesWithPing);
    }
  });
});

describe("WebSocket pings on heartbeat ticks", () => {
  it("skips the ping while the client's own frames show it alive within heartbeatMs, and pings once they stop", async () => {
    const clock = new FakeClock();
    const s = await start({ clock, heartbeatMs: 1_000 });
    const c = await openWs(`${s.url}/ws`);
    let pings = 0;
    c.ws.on("ping", () => pings++);
    await waitFor(() => c.frames.length >= 1, "the hello");
    const beats = () => c.frames.filter((f) => f.type === "heartbeat").length;
    // A probe's answer shows the frames before it were read (lastSeen set on the fake clock).
    const heard = async (seq: number) => {
      c.send([{ type: "heartbeat", time: clock.time }, { type: "probe", seq }]);
      await waitFor(() => c.frames.some((f) => f.type === "probe" && f.seq === seq), `probe ${seq} answered`);
    };
    clock.advance(1_000); // silent since it connected 1 000 ms ago: pinged
    await waitFor(() => beats() === 1 && pings === 1, "heartbeat 1 with a ping");
    for (let i = 2; i <= 3; i++) {
      clock.advance(500);
      await heard(i); // the client's heartbeat, as @throughline/client sends every heartbeatMs
      clock.advance(500);
      await waitFor(() => beats() === i, `heartbeat ${i}`);
    }
    clock.advance(1_000); // nothing from the client for 1 500 ms: pinged again
    await waitFor(() => beats() === 4 && pings === 2, "heartbeat 4 with a ping");
    expect(pings).toBe(2);
    expect(s.rt.connectionCount).toBe(1);
  });

  it("pings on every tick when clientTimeoutMs leaves no room for one skipped ping", async () => {
    const clock = new FakeClock();
    const s = await start({ clock, heartbeatMs: 1_000, clientTimeoutMs: 1_500 });
    const c = await openWs(`${s.url}/ws`);
    let pings = 0;
    c.ws.on("ping", () => pings++);
    await waitFor(() => c.frames.length >= 1, "the hello");
    for (let i = 1; i <= 3; i++) {
      clock.advance(500);
      c.send([{ type: "heartbeat", time: clock.time }, { type: "probe", seq: i }]);
      await waitFor(() => c.frames.some((f) => f.type === "probe" && f.seq === i), `probe ${i} answered`);
      clock.advance(500);
      await waitFor(() => pings === i, `ping ${i}`);
    }
    expect(s.rt.connectionCount).toBe(1);
  });
});

describe("heartbeat ticks over many connections", () => {
  it(`beat the first ${HEARTBEAT_SLICE} connections at once and the rest in later turns, after a message published meanwhile`, async () => {
    const clock = new FakeClock();
    const n = HEARTBEAT_SLICE + 44;
    const s = await start({ clock, heartbeatMs: 1_000, maxConnectionsPerAddress: 1_000 });
    const clients: Array<{ frames: readonly { type: string }[]; pings: number }> = [];
    for (let i = 0; i < n; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, n - i) }, async () => {
          const c = await openWs(`${s.url}/ws?topics=t`);
          const entry = { frames: c.frames, pings: 0 };
          c.ws.on("ping", () => entry.pings++);
          return entry;
        }),
      );
      clients.push(...batch);
    }
    await waitFor(() => s.rt.connectionCount === n && clients.every((c) => c.frames[0]?.type === "hello"), "every hello", 20_000);
    clock.advance(1_000); // the tick: its first slice is written now, in this turn
    s.rt.publish("t", "meanwhile");
    const types = (c: (typeof clients)[number]) => c.frames.map((f) => f.type);
    await waitFor(() => clients.every((c) => types(c).includes("message") && types(c).includes("heartbeat") && c.pings === 1), "every message, heartbeat and ping", 20_000);
    for (const c of clients) expect(types(c).filter((x) => x === "heartbeat").length).toBe(1);
    const messageFirst = clients.map((c) => types(c).indexOf("message") < types(c).indexOf("heartbeat"));
    // Connections are beaten in the order they came: only the late slice got the message first.
    expect(messageFirst.filter(Boolean).length).toBe(n - HEARTBEAT_SLICE);
    expect(messageFirst.slice(HEARTBEAT_SLICE).every(Boolean)).toBe(true);
  });
});
