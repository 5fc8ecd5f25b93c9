/**
 * Tab sharing (`@throughline/client/share`, the shipped browser bundle) in real Chromium: 8 tabs
 * of one origin over HTTP/1.1 (6 connections per origin: a 7th own stream would hang) share one
 * SSE stream; each tab gets exactly its topics, in order; sends work from any tab; a killed
 * leader and a stalled leader are replaced and the stream resumes from the cursor with nothing
 * lost or duplicated in any tab.
 */
import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../src/chromium.js";
import { sleep, waitFor, within } from "../src/wait.js";
import { startEntryServer, type EntryServer } from "./fixtures/entry-server.js";

const TABS = 8;
let server: EntryServer;
let browser: Browser;
let context: BrowserContext;
let pages: Page[] = [];
const received: unknown[] = [];

type Got = [topic: string, data: { phase: string; n: number } | string];
interface TabWindow {
  tl: { share(url: string, o: object): { readyState: number; isLeader: boolean; on(e: string, f: (m: { topic: string; data: unknown }) => void): void; send(d: unknown): Promise<void>; close(): void } };
  ch: TabWindow["tl"] extends { share(...a: never[]): infer C } ? C : never;
  got: Got[];
}

const PAGE_SETUP = `
window.start = (url, i) => {
  window.got = [];
  const ch = (window.ch = window.tl.share(url, { topics: ["all", "t" + i], transports: ["sse"], beatMs: 200, stallMs: 1000 }));
  ch.on("*", (m) => window.got.push([m.topic, m.data]));
};`;

const evalIn = <T>(page: Page, fn: (w: TabWindow) => T): Promise<T> => page.evaluate(`(${fn.toString()})(window)`) as Promise<T>;

/** The data of phase `phase` a page got, in arrival order. */
const phaseOf = async (page: Page, phase: string) => (await evalIn(page, (w) => w.got)).filter((g) => typeof g[1] === "object" && g[1].phase === phase).map((g) => (g[1] as { n: number }).n);

const leaderIndex = async (live: Page[]): Promise<number> => {
  const flags = await Promise.all(live.map((p) => evalIn(p, (w) => w.ch.isLeader)));
  expect(flags.filter(Boolean).length, "exactly one leader").toBe(1);
  return flags.indexOf(true);
};

/** Publishes `count` messages of `phase` on "all", one every `everyMs`, calling `at(n)` before each. */
async function publishSlowly(phase: string, count: number, everyMs: number, at?: (n: number) => Promise<void> | void): Promise<void> {
  for (let n = 0; n < count; n++) {
    await at?.(n);
    server.rt.publish("all", { phase, n });
    await sleep(everyMs);
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function allOpen(live: Page[]): Promise<void> {
  for (const p of live) await within(p.waitForFunction(() => (window as unknown as TabWindow).ch.readyState === 1, undefined, { timeout: 20_000 }), "every tab to see the stream open", 25_000);
}

beforeAll(async () => {
  server = await startEntryServer("share", { heartbeatMs: 1_000, retryMs: 50 });
  server.rt.on("message", (data) => void received.push(data));
  browser = await launchChromium();
  context = await browser.newContext();
  for (let i = 0; i < TABS; i++) {
    const page = await context.newPage();
    await page.goto(`${server.origin}/`);
    await page.waitForFunction(() => "tl" in window, undefined, { timeout: 15_000 });
    await page.addScriptTag({ content: PAGE_SETUP });
    await page.evaluate(([url, i]) => (window as unknown as { start(u: string, i: number): void }).start(url as string, i as number), [server.url, i] as const);
    pages.push(page);
  }
}, 120_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
});

describe("one connection for all tabs, in Chromium", () => {
  it("8 tabs over HTTP/1.1 all receive exactly their topics, in order, over one SSE stream; send works from any tab", async () => {
    await allOpen(pages);
    await waitFor(() => server.sseStreams === 1 && server.rt.connectionCount === 1, "a single stream at the server", 20_000);
    for (let n = 0; n < 20; n++) server.rt.publish("all", { phase: "fanout", n });
    for (let i = 0; i < TABS; i++) server.rt.publish(`t${i}`, `only for tab ${i}`);
    for (const [i, p] of pages.entries()) {
      await within(p.waitForFunction((i) => (window as unknown as TabWindow).got.some((g) => g[1] === `only for tab ${i}`), i, { timeout: 20_000 }), `tab ${i}'s own message`, 25_000);
      const got = await evalIn(p, (w) => w.got);
      expect(got, `tab ${i}`).toEqual([...range(20).map((n) => ["all", { phase: "fanout", n }]), [`t${i}`, `only for tab ${i}`]]);
    }
    expect(server.sseStreams).toBe(1);

    const leader = await leaderIndex(pages);
    const follower = (leader + 3) % TABS;
    await within(evalIn(pages[follower]!, (w) => w.ch.send({ from: "a follower" })), "a follower's send", 15_000);
    await within(evalIn(pages[leader]!, (w) => w.ch.send({ from: "the leader" })), "the leader's send", 15_000);
    await waitFor(() => received.length >= 2, "both sends at the server");
    expect(received).toEqual([{ from: "a follower" }, { from: "the leader" }]);
  }, 120_000);

  it("a leader tab killed mid-stream (renderer crash) is replaced; every tab resumes with 0 lost, 0 duplicated", async () => {
    const leader = await leaderIndex(pages);
    const victim = pages[leader]!;
    const cdp = await context.newCDPSession(victim);
    const count = 60;
    await publishSlowly("kill", count, 15, (n) => {
      // Page.crash never answers: the renderer is gone.
      if (n === 20) void cdp.send("Page.crash").catch(() => undefined);
    });
    pages = pages.filter((p) => p !== victim);
    for (const [i, p] of pages.entries()) {
      await within(p.waitForFunction((c) => (window as unknown as TabWindow).got.filter((g) => typeof g[1] === "object" && g[1].phase === "kill").length >= c, count, { timeout: 30_000 }), `tab ${i}: all ${count} messages`, 35_000);
      expect(await phaseOf(p, "kill"), `tab ${i}`).toEqual(range(count));
    }
    await leaderIndex(pages);
    await waitFor(() => server.sseStreams === 1, "one stream again", 20_000);
  }, 120_000);

  // Headless Chromium leaves a visible page running when told Page.setWebLifecycleState "frozen"
  // (checked: the page kept answering and delivering), so the leader's main thread is stopped
  // with the debugger instead — the same for the others: a lock holder that runs no code.
  it("a stalled leader (main thread stopped: CDP Debugger.pause) is detected and replaced; it steps down when resumed; 0 lost, 0 duplicated", async () => {
    await allOpen(pages);
    const leader = await leaderIndex(pages);
    const stalled = pages[leader]!;
    const others = pages.filter((p) => p !== stalled);
    const cdp: CDPSession = await context.newCDPSession(stalled);
    const count = 60;
    await publishSlowly("stall", count, 40, async (n) => {
      if (n === 10) {
        await cdp.send("Debugger.enable");
        await cdp.send("Debugger.pause"); // stops at the next statement the tab runs (its next timer or chunk)
      }
    });
    for (const [i, p] of others.entries()) {
      await within(p.waitForFunction((c) => (window as unknown as TabWindow).got.filter((g) => typeof g[1] === "object" && g[1].phase === "stall").length >= c, count, { timeout: 30_000 }), `tab ${i}: all ${count} messages`, 35_000);
      expect(await phaseOf(p, "stall"), `tab ${i}`).toEqual(range(count));
    }
    const answer = await Promise.race([evalIn(stalled, (w) => w.got.length).then(() => "answered"), sleep(500).then(() => "no answer")]);
    expect(answer, "the stalled tab runs no code").toBe("no answer");
    expect((await Promise.all(others.map((p) => evalIn(p, (w) => w.ch.isLeader)))).filter(Boolean).length, "a new leader among the others").toBe(1);

    // The new leader's negotiation may briefly hold a second attempt open (a loaded machine):
    // what must settle is the stalled leader's stream, still open, and the new leader's one.
    await waitFor(() => server.sseStreams === 2, "the stalled leader's stream still open, and the new leader's one", 20_000);
    await cdp.send("Debugger.resume");
    await cdp.send("Debugger.disable");
    await within(stalled.waitForFunction(() => !(window as unknown as TabWindow).ch.isLeader, undefined, { timeout: 20_000 }), "the resumed leader to step down", 25_000);
    await waitFor(() => server.sseStreams === 1, "the old leader's stream to close", 20_000);
    await leaderIndex(pages);
    // The resumed tab too: what it got itself before the stall, then the new leader's broadcasts.
    await within(stalled.waitForFunction((c) => (window as unknown as TabWindow).got.filter((g) => typeof g[1] === "object" && g[1].phase === "stall").length >= c, count, { timeout: 20_000 }), "the resumed tab's messages", 25_000);
    expect(await phaseOf(stalled, "stall")).toEqual(range(count));
  }, 120_000);

  it("without sharing, the seventh tab's own stream hangs until another tab lets go (HTTP/1.1: 6 per origin)", async () => {
    await context.close(); // the shared tabs' stream must not count against this context's limit
    const solo = await browser.newContext();
    try {
      // Pages first: once six streams are open, even the seventh page's HTML would wait.
      const tabs: Page[] = [];
      for (let i = 0; i < 7; i++) {
        const page = await solo.newPage();
        await page.goto(`${server.origin}/`);
        await page.waitForFunction(() => "tl" in window, undefined, { timeout: 15_000 });
        tabs.push(page);
      }
      for (const [i, page] of tabs.entries()) {
        // A different `name` per tab: seven groups, so seven leaders with a stream each.
        await page.evaluate(([url, i]) => {
          const w = window as unknown as { tl: TabWindow["tl"]; ch: unknown };
          w.ch = w.tl.share(url as string, { name: `solo-${i}`, topics: ["all"], transports: ["sse"] });
        }, [server.url, i] as const);
        if (i < 6) await within(page.waitForFunction(() => (window as unknown as TabWindow).ch.readyState === 1, undefined, { timeout: 20_000 }), `solo tab ${i} to open`, 25_000);
      }
      await waitFor(() => server.sseStreams === 6, "six streams");
      await sleep(3_000); // the seventh request is queued by the browser, not sent
      expect(server.sseStreams).toBe(6);
      expect(await evalIn(tabs[6]!, (w) => w.ch.readyState)).toBe(0);
      await tabs[0]!.close();
      await within(tabs[6]!.waitForFunction(() => (window as unknown as TabWindow).ch.readyState === 1, undefined, { timeout: 30_000 }), "the seventh tab once a connection is free", 35_000);
    } finally {
      await solo.close();
    }
  }, 120_000);
});
