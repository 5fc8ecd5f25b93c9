import { afterEach, describe, expect, it } from "vitest";
import { startHostileProxy, type Clock } from "../../src/hostile/index.js";
import { sleep } from "../../src/wait.js";
import { Cleanup, nthStream, openWs, QUIET_MS, record, startUpstream, waitFor, within } from "./helpers.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe("cut-idle", () => {
  it("keeps a stream with traffic alive, then aborts it once it goes quiet", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "cut-idle", ms: 800 }));
    const rec = cleanup.add(record(`${proxy.url}/stream`));
    const s = await nthStream(up);
    // Twelve writes 100 ms apart span 1.2 s, longer than the idle limit, yet each resets it.
    for (let i = 0; i < 12; i++) {
      s.write(`data: ${i}\n\n`);
      await sleep(100);
    }
    await waitFor(() => rec.body.toString().endsWith("data: 11\n\n"), "all twelve events");
    expect(rec.failed).toBe(false);
    expect(proxy.stats.cuts).toBe(0);
    await waitFor(() => rec.failed, "the idle cut");
    expect(rec.ended).toBe(false);
    expect(proxy.stats.cuts).toBe(1);
    await waitFor(() => s.closedEarly, "the upstream side to be torn down too");
  });

  it("cuts an idle WebSocket tunnel without a close frame", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "cut-idle", ms: 300 }));
    const c = openWs(`${proxy.url}/ws`);
    cleanup.add({ close: () => c.ws.terminate() });
    await waitFor(() => c.log.includes("open"), "the socket to open");
    expect(await within(c.closed, "the idle cut")).toBe(1006);
    expect(proxy.stats.cuts).toBe(1);
  });
});

describe("cut-after", () => {
  it("aborts a busy response at its deadline, after delivering what came before", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "cut-after", ms: 500 }));
    const rec = cleanup.add(record(`${proxy.url}/stream`));
    const s = await nthStream(up);
    let i = 0;
    const writer = setInterval(() => s.write(`data: ${i++}\n\n`), 20);
    cleanup.add({ close: () => clearInterval(writer) });
    await waitFor(() => rec.failed, "the cut");
    clearInterval(writer);
    expect(rec.ended).toBe(false);
    expect(rec.body.toString()).toMatch(/^data: 0\n\n/);
    expect(proxy.stats.cuts).toBe(1);
  });

  it("cuts each response on its own clock: a new request after a cut gets its full time again", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "cut-after", ms: 300 }));
    const first = cleanup.add(record(`${proxy.url}/stream`));
    await waitFor(() => first.failed, "the first cut");
    const second = cleanup.add(record(`${proxy.url}/stream`));
    const s = await nthStream(up, 2);
    s.write("data: fresh\n\n");
    await waitFor(() => second.body.toString() === "data: fresh\n\n", "data on the second response");
    await waitFor(() => second.failed, "the second cut");
    expect(proxy.stats.cuts).toBe(2);
  });

  it("cuts WebSocket tunnels too", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "cut-after", ms: 400 }));
    const c = openWs(`${proxy.url}/ws`);
    cleanup.add({ close: () => c.ws.terminate() });
    const pinger = setInterval(() => c.ws.readyState === 1 && c.ws.send("ping"), 20);
    cleanup.add({ close: () => clearInterval(pinger) });
    expect(await within(c.closed, "the cut")).toBe(1006);
    expect(c.messages.length).toBeGreaterThan(0);
    expect(proxy.stats.cuts).toBe(1);
  });
});

/** A clock that only moves when the test says so. */
function manualClock() {
  let now = 0;
  const timers = new Set<{ at: number; fn: () => void }>();
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const t = { at: now + ms, fn };
      timers.add(t);
      return t;
    },
    clearTimeout: (h) => void timers.delete(h as { at: number; fn: () => void }),
  };
  const advance = (ms: number) => {
    now += ms;
    for (const t of [...timers].sort((a, b) => a.at - b.at)) {
      if (t.at <= now && timers.delete(t)) t.fn();
    }
  };
  return { clock, advance, pending: () => timers.size };
}

describe("latency", () => {
  it("delays every chunk until its time has come, on the injected clock", async () => {
    const up = cleanup.add(await startUpstream());
    const m = manualClock();
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "latency", ms: 1000 }, { clock: m.clock }));
    const rec = cleanup.add(record(`${proxy.url}/stream`));
    // The proxy sets a timer exactly when it starts holding something: wait for that, not for time.
    await waitFor(() => m.pending() === 1, "the proxy to hold the request");
    await sleep(QUIET_MS);
    expect(up.streams).toHaveLength(0);
    m.advance(1000);
    const s = await nthStream(up);
    await waitFor(() => m.pending() === 1, "the proxy to hold the response head");
    expect(rec.log).toEqual([]);
    m.advance(1000);
    await waitFor(() => rec.status === 200, "the head");
    s.write("data: 1\n\n");
    await waitFor(() => m.pending() === 1, "the proxy to hold the event");
    m.advance(999);
    await sleep(QUIET_MS);
    expect(rec.body.length).toBe(0);
    m.advance(1);
    await waitFor(() => rec.body.toString() === "data: 1\n\n", "the event once 1000 ms have passed");
    s.end();
    await waitFor(() => m.pending() === 1, "the proxy to hold the end");
    m.advance(1000);
    await waitFor(() => rec.ended, "the end");
    expect(m.pending()).toBe(0);
  });

  it("keeps order under jitter, both ways over WebSocket", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "latency", ms: 5, jitterMs: 40 }));
    const c = openWs(`${proxy.url}/ws`);
    cleanup.add({ close: () => c.ws.terminate() });
    await waitFor(() => c.log.includes("open"), "the socket to open");
    const sent = Array.from({ length: 100 }, (_, i) => `m${i}`);
    for (const m of sent) c.ws.send(m);
    await waitFor(() => c.messages.length === sent.length, "every echo");
    expect(c.messages).toEqual(sent);
  });

  it("keeps order under jitter for a streamed response", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "latency", ms: 1, jitterMs: 30 }));
    const rec = cleanup.add(record(`${proxy.url}/stream`));
    const s = await nthStream(up);
    const expected: string[] = [];
    for (let i = 0; i < 50; i++) {
      expected.push(`data: ${i}\n\n`);
      s.write(expected[i]!);
      if (i % 10 === 0) await sleep(5);
    }
    s.end();
    await waitFor(() => rec.ended, "the end");
    expect(rec.body.toString()).toBe(expected.join(""));
  });
});
