/**
 * The channel's negotiation state logic on a manual clock with scripted transports (no sockets):
 * climbing back with backoff, switching up once proven, and switching down when a watched stream
 * goes quiet. Real sockets and proxies are in packages/testkit/test/scenarios.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { HelloFrame, TransportName } from "@throughline/wire";
import { ThroughlineError } from "@throughline/wire";
import type { AttemptRecord, Channel } from "@throughline/client";
import { createChannel } from "../../src/channel.js";
import { resolveOptions, type NegotiationOptions } from "../../src/options.js";
import type { Transport, TransportFactory, TransportHandlers } from "../../src/transport.js";
import { BUILT_IN } from "../../src/transports/built-in.js";
import { ManualClock, flush } from "./manual-clock.js";

/** `slow`: as `ok`, but the hello comes `SLOW_HELLO_MS` after the link opens. */
type Behaviour = "ok" | "blocked" | "slow";

const SLOW_HELLO_MS = 80;

/** `quiet` transports send no heartbeats after their hello. */
/** Every link opened, newest last: a test cuts one by calling its `h.close`. */
const links: Array<{ name: TransportName; h: TransportHandlers; closed: () => boolean }> = [];

function scripted(clock: ManualClock, behaviour: Record<TransportName, Behaviour>, heartbeatMs = 1_000, quiet = false) {
  let sessionSeq = 0;
  const factory = (name: TransportName): TransportFactory => (ctx, h) => {
    let closed = false;
    links.push({ name, h, closed: () => closed });
    let beat: unknown;
    const later = (fn: () => void) => queueMicrotask(() => !closed && fn());
    const heartbeat = () => {
      beat = clock.setTimeout(() => {
        if (closed) return;
        h.chunk?.();
        h.frame({ type: "heartbeat", time: clock.now() });
        heartbeat();
      }, heartbeatMs);
    };
    return {
      name,
      open() {
        if (behaviour[name] === "blocked") {
          const error = new ThroughlineError("TL_HTTP_STATUS", `${name} blocked by the script`, { status: 403 });
          return later(() => h.close({ code: 1006, reason: "HTTP 403", error }));
        }
        const answer = () => later(() => {
          h.opened?.();
          h.chunk?.();
          const hello: HelloFrame = { type: "hello", session: ctx.session ?? `s${++sessionSeq}`, transport: name, heartbeatMs, time: clock.now(), cursor: "e-0", retryMs: 0 };
          h.frame(hello);
          if (!quiet) heartbeat();
          if (name === "sse") {
            clock.setTimeout(() => later(() => (h.chunk?.(), h.frame({ type: "probe", seq: 1, time: clock.now() }))), 100);
          }
        });
        if (behaviour[name] === "slow") clock.setTimeout(answer, SLOW_HELLO_MS);
        else answer();
      },
      async send(frames) {
        for (const f of frames) if (f.type === "probe" && name === "websocket") later(() => (h.chunk?.(), h.frame({ type: "probe", seq: f.seq, time: clock.now() })));
      },
      close() {
        closed = true;
        clock.clearTimeout(beat);
      },
    };
  };
  // The real transports' proof and liveness rules, over scripted links.
  const value = (name: TransportName): Transport => ({ ...BUILT_IN[name]!, create: factory(name) });
  return { sse: value("sse"), websocket: value("websocket"), "long-poll": value("long-poll") };
}

let channels: Channel[] = [];
afterEach(() => {
  for (const ch of channels) ch.close();
  channels = [];
  links.length = 0;
});

function open(clock: ManualClock, behaviour: Record<TransportName, Behaviour>, negotiation: NegotiationOptions, transports: TransportName[] = ["sse", "websocket"], quiet = false) {
  const o = resolveOptions("http://127.0.0.1:1/realtime", { clock, transports, negotiation: { rememberMs: false, staggerMs: 200, proofTimeoutMs: 1_000, ...negotiation }, reconnect: { minDelayMs: 10, maxDelayMs: 10 } }, scripted(clock, behaviour, 1_000, quiet));
  const ch = createChannel(o);
  channels.push(ch);
  const attempts: AttemptRecord[] = [];
  ch.on("attempt", (a) => void attempts.push(a));
  ch.on("error", () => {});
  return { ch, attempts };
}

describe("climbing back (manual clock)", () => {
  it("re-probes the preferred transport with doubling delays and switches up once it is proven", async () => {
    const clock = new ManualClock();
    const behaviour: Record<TransportName, Behaviour> = { sse: "blocked", websocket: "ok", "long-poll": "ok" };
    const { ch, attempts } = open(clock, behaviour, { climbMinDelayMs: 1_000, climbMaxDelayMs: 3_000 });
    await clock.advance(0);
    expect(ch.transport).toBe("websocket");
    const session = ch.session;
    const climbs = () => attempts.filter((a) => a.purpose === "climb").map((a) => a.startedAt);
    await clock.advance(1_000);
    expect(climbs()).toEqual([1_000]);
    await clock.advance(2_000);
    expect(climbs()).toEqual([1_000, 3_000]);
    await clock.advance(2_999); // capped at climbMaxDelayMs
    expect(climbs()).toEqual([1_000, 3_000]);
    behaviour.sse = "ok";
    await clock.advance(1);
    expect(ch.transport).toBe("websocket"); // proving takes the probe's 100 ms
    await clock.advance(100);
    expect(climbs()).toEqual([1_000, 3_000, 6_000]);
    expect(ch.transport).toBe("sse");
    expect(ch.session).toBe(session);
    expect(attempts.at(-1)).toMatchObject({ transport: "sse", purpose: "climb", outcome: "proven" });
    await clock.advance(60_000);
    expect(climbs()).toHaveLength(3); // on the preferred transport: nothing left to climb to
  });

  it("does not climb back after a forced switch", async () => {
    const clock = new ManualClock();
    const { ch, attempts } = open(clock, { sse: "ok", websocket: "ok", "long-poll": "ok" }, { climbMinDelayMs: 1_000 });
    await clock.advance(100);
    expect(ch.transport).toBe("sse");
    const switched = ch.switchTransport("websocket");
    await clock.advance(0);
    await switched;
    expect(ch.transport).toBe("websocket");
    await clock.advance(60_000);
    expect(attempts.filter((a) => a.purpose === "climb")).toEqual([]);
  });
});

describe("watching after connect (manual clock)", () => {
  it("switches down when a watched stream goes quiet past quietFactor × heartbeatMs, trying the degraded transport last", async () => {
    const clock = new ManualClock();
    const { ch, attempts } = open(clock, { sse: "ok", websocket: "ok", "long-poll": "ok" }, { climbMinDelayMs: false, quietFactor: 2.5 }, ["sse", "websocket"], true);
    await clock.advance(100);
    expect(ch.transport).toBe("sse");
    // Adopted at 100 (after the probe): quiet from then on, the bound is 2.5 × 1_000 + 1_000.
    await clock.advance(3_450);
    expect(attempts.some((a) => a.outcome === "degraded")).toBe(false);
    await clock.advance(100);
    expect(attempts.find((a) => a.outcome === "degraded")).toMatchObject({ transport: "sse" });
    await clock.advance(50);
    expect(ch.transport).toBe("websocket");
    const after = attempts.filter((a) => a.startedAt > 3_000 && a.outcome !== "degraded" && a.outcome !== "lost");
    expect(after[0]).toMatchObject({ transport: "websocket", outcome: "proven" });
  });
});

describe("cuts (manual clock, issue #10)", () => {
  const cut = () => {
    const l = links.filter((x) => !x.closed()).at(-1)!;
    l.h.close({ code: 1006, reason: "cut by a proxy" });
  };

  it("resumes a healthy link cut without a close code at once, and backs off after the server's own close", async () => {
    const clock = new ManualClock();
    const { ch, attempts } = open(clock, { sse: "ok", websocket: "ok", "long-poll": "ok" }, { climbMinDelayMs: false });
    await clock.advance(100);
    expect(ch.transport).toBe("sse");
    await clock.advance(5_000);
    // (An attempt is recorded when it ends: its startedAt tells when it began.)
    const connects = () => attempts.filter((a) => a.purpose === "connect" && a.outcome !== "lost");
    const linksBefore = links.length;
    const cutAt = clock.now();
    cut();
    await flush(); // no time passes: the new attempt starts at once
    expect(links.length).toBe(linksBefore + 1);
    await clock.advance(100);
    expect(connects().at(-1)).toMatchObject({ startedAt: cutAt, outcome: "proven" });
    expect(ch.readyState).toBe(1);
    await clock.advance(5_000);
    const n = links.length;
    const l = links.filter((x) => !x.closed()).at(-1)!;
    l.h.frame({ type: "close", code: 1001, reason: "restarting" });
    await flush();
    // The server closed: a backoff wait (full jitter) comes first, spreading a crowd.
    expect(links.length).toBe(n);
    expect(ch.readyState).toBe(0);
    await clock.advance(10);
    expect(links.length).toBe(n + 1);
  });

  it("learns a fixed-duration cut from two cuts of the same age and rotates make-before-break before the next", async () => {
    const clock = new ManualClock();
    const { ch, attempts } = open(clock, { sse: "ok", websocket: "ok", "long-poll": "ok" }, { climbMinDelayMs: false });
    await clock.advance(100); // proven at 100
    await clock.advance(2_000);
    cut(); // age 2 000
    await clock.advance(100); // resumed at once, proven 100 ms later
    await clock.advance(2_000);
    cut(); // age 2 000 again: learnt
    await clock.advance(100);
    expect(ch.transport).toBe("sse");
    const opened = clock.now();
    const rotations = () => attempts.filter((a) => a.purpose === "rotate");
    const old = links.filter((x) => !x.closed()).at(-1)!;
    const n = links.length;
    await clock.advance(1_399);
    expect(links.length).toBe(n);
    await clock.advance(1); // 70 % of 2 000 after the hello: the new link opens
    expect(links.length).toBe(n + 1);
    expect(old.closed()).toBe(false); // make before break: the old link stays until the new one is proven
    await clock.advance(100);
    expect(rotations()).toEqual([expect.objectContaining({ transport: "sse", outcome: "proven", startedAt: opened + 1_400 })]);
    expect(old.closed()).toBe(true);
    expect(ch.readyState).toBe(1);
    expect(attempts.filter((a) => a.outcome === "lost")).toHaveLength(2); // only the two cuts it learnt from
  });
});

describe("the first round's long-poll scout (manual clock)", () => {
  const all: TransportName[] = ["sse", "websocket", "long-poll"];

  it("starts no scout when the stream says hello before the scout delay", async () => {
    const clock = new ManualClock();
    const { ch, attempts } = open(clock, { sse: "ok", websocket: "ok", "long-poll": "ok" }, { climbMinDelayMs: false }, all);
    await clock.advance(100); // hello at 0, probe at 100
    expect(ch.transport).toBe("sse");
    // A healthy stream costs no extra request: only the SSE link was ever opened.
    expect(links.map((l) => l.name)).toEqual(["sse"]);
    expect(attempts.map((a) => [a.transport, a.purpose, a.outcome])).toEqual([["sse", "connect", "proven"]]);
  });

  it("starts a long-poll scout 50 ms into the round when the stream has not said hello, and drops it once the stream is proven", async () => {
    const clock = new ManualClock();
    const { ch, attempts } = open(clock, { sse: "slow", websocket: "ok", "long-poll": "ok" }, { climbMinDelayMs: false }, all);
    await clock.advance(49);
    expect(links.map((l) => l.name)).toEqual(["sse"]);
    await clock.advance(1);
    expect(links.map((l) => l.name)).toEqual(["sse", "long-poll"]);
    await clock.advance(SLOW_HELLO_MS + 100 - 50); // the SSE hello at 80, its probe at 180 (before the stagger)
    expect(ch.transport).toBe("sse");
    expect(links.find((l) => l.name === "long-poll")!.closed()).toBe(true);
    expect(attempts.map((a) => [a.transport, a.purpose])).toEqual([["long-poll", "scout"], ["sse", "connect"]]);
  });
});
