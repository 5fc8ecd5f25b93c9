/**
 * The EventSource facade (`@throughline/client/eventsource`, the shipped browser bundle) in real
 * Chromium, driven by code written for the native `EventSource`: only the constructor changes.
 * Against a plain SSE endpoint the facade's log must equal the native one's exactly; against the
 * Throughline server it runs on the negotiator with the same code.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../src/chromium.js";
import { sleep, waitFor, within } from "../src/wait.js";
import { startEntryServer, type EntryServer } from "./fixtures/entry-server.js";

let server: EntryServer;
let browser: Browser;
const plainRequests: (string | undefined)[] = [];
let plainOpen = 0;

/** A plain SSE server: the first stream ends after two events; the reconnect is held open. */
function plain(req: IncomingMessage, res: ServerResponse): boolean {
  if (!req.url?.startsWith("/plain")) return false;
  const lastId = req.headers["last-event-id"] as string | undefined;
  plainRequests.push(lastId);
  plainOpen++;
  res.on("close", () => plainOpen--);
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
  if (plainRequests.length === 1) res.end("retry: 100\nid: 1\ndata: hello\n\nevent: price\ndata: 1.5\n\n");
  else res.write(`data: again after ${lastId}\n\nid: 2\n\n:\n\nevent: price\nid: 3\ndata: 2\n\n`);
  return true;
}

/** Code written for the native EventSource; `ES` is the only thing that changes. */
const SCENARIO = `
window.run = (ES, url) => {
  const log = [];
  const es = new ES(url);
  log.push(["constructed", es.readyState, es.url === new URL(url, location.href).href, es.withCredentials]);
  es.onopen = () => log.push(["open", es.readyState]);
  es.onmessage = (e) => log.push(["message", e.data, e.lastEventId, e.origin === location.origin, es.readyState]);
  es.addEventListener("price", (e) => log.push(["price", e.data, e.lastEventId]));
  es.onerror = () => log.push(["error", es.readyState]);
  window.es = es;
  window.log = log;
};`;

async function openPage(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${server.origin}/`);
  await page.waitForFunction(() => "tl" in window, undefined, { timeout: 15_000 });
  await page.addScriptTag({ content: SCENARIO });
  return page;
}

const log = (page: Page) => page.evaluate(() => (window as unknown as { log: unknown[][] }).log);

beforeAll(async () => {
  server = await startEntryServer("eventsource", { heartbeatMs: 1_000, retryMs: 50 }, plain);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("EventSource facade in Chromium", () => {
  it("behaves exactly like the native EventSource on a plain SSE stream (events, lastEventId, reconnect, close)", async () => {
    const logs: unknown[][][] = [];
    for (const constructor of ["native", "throughline"] as const) {
      plainRequests.length = 0;
      const page = await openPage();
      await page.evaluate((c) => {
        const w = window as unknown as { run(ES: unknown, url: string): void; tl: { EventSource: unknown }; EventSource: unknown };
        w.run(c === "native" ? w.EventSource : w.tl.EventSource, "/plain");
      }, constructor);
      await within(page.waitForFunction(() => (window as unknown as { log: unknown[][] }).log.some((l) => l[0] === "price" && l[2] === "3"), undefined, { timeout: 15_000 }), `${constructor}: the events after the reconnect`, 20_000);
      await page.evaluate(() => (window as unknown as { es: { close(): void } }).es.close());
      await waitFor(() => plainOpen === 0, `${constructor}: the stream to be let go`);
      const requests = plainRequests.length;
      await sleep(400); // retry is 100 ms: a reconnect after close() would have happened by now
      expect(plainRequests.length, `${constructor}: no request after close()`).toBe(requests);
      expect(plainRequests).toEqual([undefined, "1"]);
      expect(await page.evaluate(() => (window as unknown as { es: { readyState: number } }).es.readyState)).toBe(2);
      logs.push(await log(page));
      await page.close();
    }
    expect(logs[1]).toEqual(logs[0]);
    expect(logs[0]).toEqual([
      ["constructed", 0, true, false],
      ["open", 1],
      ["message", "hello", "1", true, 1],
      ["price", "1.5", "1"],
      ["error", 0],
      ["open", 1],
      ["message", "again after 1", "1", true, 1],
      ["price", "2", "3"],
    ]);
  });

  it("runs the same code on the negotiator against a Throughline server, and close() stops reconnecting", async () => {
    const page = await openPage();
    await waitFor(() => server.rt.connectionCount === 0, "no earlier connection");
    await page.evaluate((url) => {
      const w = window as unknown as { run(ES: unknown, url: string): void; tl: { EventSource: unknown } };
      w.run(w.tl.EventSource, url);
    }, `${server.url}/sse?topics=prices`);
    await within(page.waitForFunction(() => (window as unknown as { es: { readyState: number } }).es.readyState === 1, undefined, { timeout: 15_000 }), "open", 20_000);
    const ids = [server.rt.publish("prices", "plain text"), server.rt.publish("prices", { p: 1.5 }, { event: "price" }), server.rt.publish("other", "not mine")];
    await within(page.waitForFunction(() => (window as unknown as { log: unknown[][] }).log.some((l) => l[0] === "price"), undefined, { timeout: 15_000 }), "the price event", 20_000);
    expect(await log(page)).toEqual([
      ["constructed", 0, true, false],
      ["open", 1],
      ["message", "plain text", ids[0], true, 1],
      ["price", '{"p":1.5}', ids[1]],
    ]);
    await page.evaluate(() => (window as unknown as { es: { close(): void } }).es.close());
    await waitFor(() => server.rt.connectionCount === 0, "the server connection to close");
    await sleep(300); // the server's retryMs is 50: a reconnect would be back by now
    expect(server.rt.connectionCount).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { es: { readyState: number } }).es.readyState)).toBe(2);
    await page.close();
  });
});
