/**
 * Browsers' `online`/`offline`: the channel pauses while offline (no attempts, an open link is
 * dropped) and reconnects at once on `online`, resuming without loss. Node has no `window`, so
 * the test gives the channel a real `EventTarget` as `window` and a `navigator.onLine` flag, as a
 * browser would; the connections themselves are real loopback sockets.
 */
import { afterEach, describe, expect, it } from "vitest";
import { connect, type Channel } from "@throughline/client/node";
import { startTestServer, type TestServer } from "../../src/harness.js";
import { sleep, waitFor } from "../../src/wait.js";

const g = globalThis as { window?: EventTarget; navigator?: { onLine?: boolean } };
let server: TestServer | undefined;
let ch: Channel | undefined;
const hadNavigator = Object.getOwnPropertyDescriptor(globalThis, "navigator");

function fakeBrowser(): { window: EventTarget; nav: { onLine: boolean } } {
  const window = new EventTarget();
  const nav = { onLine: true };
  g.window = window;
  Object.defineProperty(globalThis, "navigator", { value: nav, configurable: true, writable: true });
  return { window, nav };
}

afterEach(async () => {
  ch?.close();
  ch = undefined;
  await server?.close();
  server = undefined;
  delete g.window;
  if (hadNavigator) Object.defineProperty(globalThis, "navigator", hadNavigator);
  else delete g.navigator;
});

describe.each(["sse", "websocket", "long-poll"] as const)("online/offline over %s", (transport) => {
  it("pauses while offline, then reconnects on online and resumes without loss", async () => {
    const { window, nav } = fakeBrowser();
    // A long server retry: without the online event the next attempt could be a minute away.
    server = await startTestServer({ retryMs: 60_000 });
    ch = connect(server.url, { transports: [transport], topics: ["t"], reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 } });
    const got: number[] = [];
    let opens = 0;
    ch.on("open", () => opens++);
    ch.on("message", (m) => got.push((m.data as { n: number }).n));
    await waitFor(() => opens === 1, "the first open");
    server.rt.publish("t", { n: 0 });
    await waitFor(() => got.length === 1, "the first message");

    nav.onLine = false;
    window.dispatchEvent(new Event("offline"));
    expect(ch.readyState).toBe(0); // CONNECTING: the link was dropped
    for (let n = 1; n <= 3; n++) server.rt.publish("t", { n });
    await sleep(300);
    // Paused: no attempt was made, nothing arrived.
    expect({ opens, got }).toEqual({ opens: 1, got: [0] });

    nav.onLine = true;
    window.dispatchEvent(new Event("online"));
    await waitFor(() => opens === 2, "the reconnect on online", 10_000);
    await waitFor(() => got.length === 4, "the missed messages", 10_000);
    expect(got).toEqual([0, 1, 2, 3]);
  });

  it("ends a backoff wait at once when the browser comes back online", async () => {
    const { window } = fakeBrowser();
    server = await startTestServer({ retryMs: 60_000 });
    ch = connect(server.url, { transports: [transport], topics: ["t"], reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 } });
    let opens = 0;
    ch.on("open", () => opens++);
    ch.on("error", () => {});
    await waitFor(() => opens === 1, "the first open");
    await server.restart(); // 1001: the client backs off (up to a minute with this retry)
    await waitFor(() => ch!.readyState === 0, "the channel to be reconnecting");
    window.dispatchEvent(new Event("online"));
    await waitFor(() => opens === 2, "the reconnect on online", 10_000);
  });
});

describe("closing", () => {
  it("stops listening to online and offline", async () => {
    const { window } = fakeBrowser();
    // Counts the channel's listener calls, however it removes them (removeEventListener or a signal).
    let heard = 0;
    const wrapped = new Map<unknown, (e: Event) => void>();
    const add = window.addEventListener.bind(window);
    const remove = window.removeEventListener.bind(window);
    window.addEventListener = ((type: string, fn: (e: Event) => void, options?: AddEventListenerOptions) => {
      const w = (e: Event) => {
        heard++;
        fn(e);
      };
      wrapped.set(fn, w);
      add(type, w, options);
    }) as typeof window.addEventListener;
    window.removeEventListener = ((type: string, fn: (e: Event) => void) => remove(type, wrapped.get(fn) ?? fn)) as typeof window.removeEventListener;
    server = await startTestServer();
    ch = connect(server.url, { transports: ["long-poll"], topics: ["t"] });
    window.dispatchEvent(new Event("online"));
    expect(heard).toBe(1);
    ch.close();
    window.dispatchEvent(new Event("offline"));
    window.dispatchEvent(new Event("online"));
    expect(heard).toBe(1);
  });
});

describe("without a window (Node)", () => {
  it("connects and reconnects as usual", async () => {
    expect(g.window).toBeUndefined();
    server = await startTestServer();
    ch = connect(server.url, { transports: ["websocket"], topics: ["t"] });
    let opens = 0;
    ch.on("open", () => opens++);
    await waitFor(() => opens === 1, "the first open");
    await server.restart();
    await waitFor(() => opens === 2, "the reconnect", 10_000);
  });
});
