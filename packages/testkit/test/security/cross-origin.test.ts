/**
 * Cross-origin from a real page: Chromium loads a page from one loopback port (origin A) and
 * talks to the Throughline server on another port (origin B). The allowlisted origin streams over
 * fetch-SSE and WebSocket with credentials (a bearer token: CORS preflight, ticket exchange); a
 * page from an origin not on the list is refused by the browser itself.
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

const PAGE = `<!doctype html><meta charset="utf-8"><script src="/throughline.js"></script><script>
window.results = [];
window.start = (url, transport) => {
  const ch = Throughline.connect(url, { transports: [transport], topics: ["x"], token: () => "browser-token", reconnect: false });
  window.ch = ch;
  ch.on("open", () => window.results.push({ kind: "open", transport }));
  ch.on("*", (m) => window.results.push({ kind: "message", data: m.data }));
  ch.on("error", (e) => window.results.push({ kind: "error", code: e.code }));
  ch.on("close", (c) => window.results.push({ kind: "close", code: c.error && c.error.code }));
};
</script>`;

let browser: Browser;
let rt: ThroughlineServer;
let apiUrl: string;
const pages: Server[] = [];
let allowed: string;
let foreign: string;

function pageServer(): Promise<string> {
  const http = createHttpServer((req, res) => {
    if (req.url === "/throughline.js") {
      readFile(join(ROOT, BROWSER_IIFE)).then((b) => res.writeHead(200, { "content-type": "text/javascript" }).end(b), () => res.writeHead(500).end());
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE);
  });
  pages.push(http);
  return new Promise((resolve) => http.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(http.address() as AddressInfo).port}`)));
}

beforeAll(async () => {
  await build({ quiet: true });
  allowed = await pageServer();
  foreign = await pageServer();
  rt = createServer({
    heartbeatMs: 1_000,
    retryMs: 50,
    cors: { origins: [allowed], credentials: true },
    authenticate: (req) => (req.headers.authorization === "Bearer browser-token" ? "page-user" : null),
  });
  // "localhost" vs "127.0.0.1": another host as well as another port, so nothing is same-site by accident.
  apiUrl = (await rt.listen(0, "127.0.0.1")).url.replace("127.0.0.1", "localhost");
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await rt?.close();
  for (const p of pages) await new Promise<void>((r) => { p.close(() => r()); p.closeAllConnections(); });
});

async function run(origin: string, transport: string): Promise<Array<{ kind: string; code?: string; data?: unknown }>> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${origin}/`, { timeout: 15_000 });
    await page.evaluate(([url, t]) => (window as unknown as { start(u: string, t: string): void }).start(url!, t!), [apiUrl, transport]);
    const results = () => page.evaluate(() => (window as unknown as { results: Array<{ kind: string; code?: string; data?: unknown }> }).results);
    let last: Array<{ kind: string; code?: string; data?: unknown }> = [];
    const poll = async () => {
      for (let i = 0; i < 300 && !last.some((r) => r.kind === "open" || r.kind === "close"); i++) {
        last = await results();
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await poll();
    if (!last.some((r) => r.kind === "open" || r.kind === "close")) throw new Error(`neither open nor close within 15 s: ${JSON.stringify(last)}`);
    if (last.some((r) => r.kind === "open")) {
      rt.publish("x", `hello ${transport}`);
      for (let i = 0; i < 200 && !last.some((r) => r.kind === "message"); i++) {
        last = await results();
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    await page.evaluate(() => (window as unknown as { ch?: { close(): void } }).ch?.close());
    return last;
  } finally {
    await context.close();
  }
}

describe("cross-origin from Chromium", () => {
  for (const transport of ["sse", "websocket"]) {
    it(`streams to an allowlisted origin with a bearer token over ${transport}`, async () => {
      const r = await run(allowed, transport);
      expect(r).toContainEqual({ kind: "open", transport });
      expect(r).toContainEqual({ kind: "message", data: `hello ${transport}` });
    });

    it(`is refused by the browser for an origin not on the list (${transport})`, async () => {
      const r = await run(foreign, transport);
      expect(r.some((x) => x.kind === "open")).toBe(false);
      expect(r.some((x) => x.kind === "close")).toBe(true);
    });
  }
});
