/**
 * A hostile network through real Chromium: the page and the stream both go through a proxy that
 * buffers whole responses (static files pass: they end at once; the SSE stream is held). The
 * browser bundle's negotiator must end on a transport that delivers, receive every message once
 * and in order, and remember its choice in localStorage.
 */
import { readFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type ThroughlineServer } from "@throughline/server";
import { BROWSER_IIFE, ROOT, build } from "../../../../scripts/build.mjs";
import { launchChromium } from "../../src/chromium.js";
import { startHostileProxy } from "../../src/hostile/proxy.js";
import type { HostileProxy } from "../../src/hostile/types.js";
import { within } from "../../src/wait.js";

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>hostile</title></head><body>
<script src="/throughline.js"></script>
<script>
  window.got = [];
  window.attempts = [];
  window.ch = Throughline.connect(new URL("/realtime", location.href).href, {
    topics: ["b"],
    negotiation: { proofTimeoutMs: 2000 },
  });
  window.ch.on("*", (m) => window.got.push(m.id));
  window.ch.on("attempt", (a) => window.attempts.push(a.transport + ":" + a.outcome));
</script></body></html>`;

let http: Server;
let rt: ThroughlineServer;
let proxy: HostileProxy;
let browser: Browser;

beforeAll(async () => {
  await build({ quiet: true });
  const bundle = await readFile(join(ROOT, BROWSER_IIFE));
  rt = createServer({ heartbeatMs: 1_000, longPollHoldMs: 1_000, retryMs: 50 });
  http = createHttpServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path.startsWith(`${rt.path}/`)) return; // the hub answers these
    if (path === "/") return void res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE);
    if (path === "/throughline.js") return void res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(bundle);
    res.writeHead(404).end();
  });
  rt.attach(http);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  proxy = await startHostileProxy(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, [{ kind: "buffer-all" }]);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await rt?.close();
  await new Promise<void>((resolve) => {
    if (!http?.listening) return resolve();
    http.close(() => resolve());
    http.closeAllConnections();
  });
});

describe("a buffering proxy in front of a page in Chromium", () => {
  it("ends on a transport that delivers, receives every message once and in order, and remembers it", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`${proxy.url}/`, { timeout: 15_000 });
      const transport = await within(
        page.waitForFunction(() => (window as unknown as { ch: { readyState: number; transport: string } }).ch.readyState === 1, undefined, { timeout: 15_000 }).then(() =>
          page.evaluate(() => (window as unknown as { ch: { transport: string } }).ch.transport),
        ),
        "the page's channel to open",
        20_000,
      );
      expect(transport).toBe("websocket");
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        ids.push(rt.publish("b", { i }));
        await new Promise((r) => setTimeout(r, 20));
      }
      const got = () => page.evaluate(() => (window as unknown as { got: string[] }).got);
      let seen: string[] = [];
      const deadline = Date.now() + 15_000;
      while (seen.length < ids.length && Date.now() < deadline) {
        seen = await got();
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(seen).toEqual(ids);
      const attempts = await page.evaluate(() => (window as unknown as { attempts: string[] }).attempts);
      expect(attempts).toContain("websocket:proven");
      expect(attempts).not.toContain("sse:proven");
      const remembered = await page.evaluate(() => Object.entries(localStorage).find(([k]) => k.startsWith("throughline:transport:"))?.[1]);
      expect(JSON.parse(remembered ?? "{}").transport).toBe("websocket");
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
