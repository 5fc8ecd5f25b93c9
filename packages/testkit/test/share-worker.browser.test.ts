/**
 * Tab sharing through a SharedWorker (`share(url, { worker })` with the shipped
 * `share-worker.js`) in real Chromium: 8 tabs over HTTP/1.1 on one SSE stream opened by the
 * worker, the token asked from the tabs (the server requires it), exact topics per tab, sends,
 * and the worker's first tab crashed mid-stream (the worker with it) costing the others nothing.
 */
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BROWSER_ENTRIES, ROOT, bundleForBrowser } from "../../../scripts/build.mjs";
import { launchChromium } from "../src/chromium.js";
import { sleep, waitFor, within } from "../src/wait.js";
import { startEntryServer, type EntryServer } from "./fixtures/entry-server.js";

const TABS = 8;
let server: EntryServer;
let browser: Browser;
let context: BrowserContext;
let pages: Page[] = [];
const received: unknown[] = [];
const authorizations = new Set<string | undefined>();

interface TabWindow {
  ch: { readyState: number; isLeader: boolean; send(d: unknown): Promise<void> };
  got: [string, unknown][];
}
const evalIn = <T>(page: Page, fn: (w: TabWindow) => T): Promise<T> => page.evaluate(`(${fn.toString()})(window)`) as Promise<T>;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

beforeAll(async () => {
  const { js: workerJs } = await bundleForBrowser({ entryPoints: [join(ROOT, BROWSER_ENTRIES["share-worker"])], sourcemap: false, outfile: "share-worker.js" });
  server = await startEntryServer(
    "share",
    {
      heartbeatMs: 1_000,
      retryMs: 50,
      authenticate: (req) => {
        authorizations.add(req.headers.authorization);
        return req.headers.authorization === "Bearer from-a-tab" ? "user" : null;
      },
    },
    (req, res) => {
      if (req.url !== "/share-worker.js") return false;
      res.writeHead(200, { "content-type": "text/javascript", "cache-control": "no-store" }).end(workerJs);
      return true;
    },
  );
  server.rt.on("message", (data) => void received.push(data));
  browser = await launchChromium();
  context = await browser.newContext();
  for (let i = 0; i < TABS; i++) {
    const page = await context.newPage();
    await page.goto(`${server.origin}/`);
    await page.waitForFunction(() => "tl" in window, undefined, { timeout: 15_000 });
    await page.evaluate(([url, i]) => {
      const w = window as unknown as { tl: { share(u: string, o: object): TabWindow["ch"] & { on(e: string, f: (m: { topic: string; data: unknown }) => void): void } } } & TabWindow;
      w.got = [];
      const ch = w.tl.share(url as string, { worker: "/share-worker.js", topics: ["all", `t${i}`], transports: ["sse"], token: async () => "from-a-tab", beatMs: 200, stallMs: 1000 });
      ch.on("*", (m) => w.got.push([m.topic, m.data]));
      w.ch = ch;
    }, [server.url, i] as const);
    pages.push(page);
  }
}, 120_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
});

describe("one connection for all tabs through a SharedWorker, in Chromium", () => {
  it("8 tabs receive exactly their topics over one SSE stream the worker opened with a tab's token; sends work", async () => {
    for (const p of pages) await within(p.waitForFunction(() => (window as unknown as TabWindow).ch.readyState === 1, undefined, { timeout: 20_000 }), "every tab open", 25_000);
    await waitFor(() => server.sseStreams === 1 && server.rt.connectionCount === 1, "a single stream at the server", 20_000);
    for (let n = 0; n < 20; n++) server.rt.publish("all", n);
    for (let i = 0; i < TABS; i++) server.rt.publish(`t${i}`, `only for tab ${i}`);
    for (const [i, p] of pages.entries()) {
      await within(p.waitForFunction((i) => (window as unknown as TabWindow).got.some((g) => g[1] === `only for tab ${i}`), i, { timeout: 20_000 }), `tab ${i}'s own message`, 25_000);
      expect(await evalIn(p, (w) => w.got), `tab ${i}`).toEqual([...range(20).map((n) => ["all", n]), [`t${i}`, `only for tab ${i}`]]);
    }
    expect(server.sseStreams).toBe(1);
    expect([...authorizations]).toEqual(["Bearer from-a-tab"]);
    expect(await evalIn(pages[0]!, (w) => w.ch.isLeader)).toBe(false);
    await within(evalIn(pages[5]!, (w) => w.ch.send({ from: 5 })), "a tab's send", 15_000);
    await waitFor(() => received.length === 1, "the send at the server");
    expect(received).toEqual([{ from: 5 }]);
  }, 120_000);

  // Chromium may run the worker in the renderer process of the tab that started it: crashing that
  // tab kills the worker too. The other tabs notice (no pong), start a new worker and rejoin from
  // their cursors.
  it("the tab that started the worker crashed mid-stream (taking the worker along): the others rejoin a new worker, 0 lost, 0 duplicated", async () => {
    const victim = pages[0]!;
    const cdp = await context.newCDPSession(victim);
    for (let n = 0; n < 40; n++) {
      if (n === 15) void cdp.send("Page.crash").catch(() => undefined);
      server.rt.publish("all", { crash: n });
      await sleep(15);
    }
    for (const [i, p] of pages.slice(1).entries()) {
      await within(p.waitForFunction(() => (window as unknown as TabWindow).got.filter((g) => typeof g[1] === "object").length >= 40, undefined, { timeout: 20_000 }), `tab ${i + 1}: all 40`, 25_000);
      expect((await evalIn(p, (w) => w.got)).filter((g) => typeof g[1] === "object").map((g) => (g[1] as { crash: number }).crash)).toEqual(range(40));
    }
    await waitFor(() => server.sseStreams === 1, "one stream again", 20_000);
  }, 120_000);
});
