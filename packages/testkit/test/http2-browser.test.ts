/**
 * HTTP/2 in a real Chromium: ten tabs of one origin, each with an SSE channel (the client's
 * browser bundle), all streaming at once over one TLS connection. Over HTTP/1.1 the seventh tab
 * would wait for one of the six connections per origin. The certificate is self-signed for the
 * test; the browser context ignores certificate errors.
 */
import { readFile } from "node:fs/promises";
import type { Http2ServerRequest } from "node:http2";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, listenHttp2, type ThroughlineServer } from "@throughline/server";
import { BROWSER_IIFE, ROOT, build } from "../../../scripts/build.mjs";
import { launchChromium } from "../src/chromium.js";
import { selfSignedCertificate } from "../src/tls.js";
import { waitFor, within } from "../src/wait.js";

const PAGE = fileURLToPath(new URL("./fixtures/browser-page.html", import.meta.url));
const TABS = 10;

let rt: ThroughlineServer;
let origin: string;
let browser: Browser;
let context: BrowserContext;
/** The HTTP/2 session (connection) of every SSE request, by request. */
const sseSessions: unknown[] = [];
const sseVersions: string[] = [];

beforeAll(async () => {
  await build({ quiet: true });
  const files = new Map([
    ["/", { file: PAGE, type: "text/html; charset=utf-8" }],
    ["/throughline.js", { file: join(ROOT, BROWSER_IIFE), type: "text/javascript; charset=utf-8" }],
  ]);
  const tls = selfSignedCertificate();
  rt = createServer({ heartbeatMs: 1_000, retryMs: 50 });
  const l = await listenHttp2(rt, {
    key: tls.key,
    cert: tls.cert,
    host: "127.0.0.1",
    fallback: (req, res) => {
      const entry = files.get(new URL(req.url ?? "/", "https://x").pathname);
      if (!entry) {
        res.statusCode = 404;
        res.end();
        return;
      }
      readFile(entry.file).then(
        (body) => {
          res.writeHead(200, { "content-type": entry.type, "cache-control": "no-store" });
          res.end(body);
        },
        () => {
          res.statusCode = 500;
          res.end();
        },
      );
    },
  });
  l.server.prependListener("request", (req: Http2ServerRequest) => {
    if (!(req.url ?? "").startsWith("/realtime/sse")) return;
    sseVersions.push(req.httpVersion);
    sseSessions.push(req.stream?.session);
  });
  origin = `https://localhost:${l.port}`;
  browser = await launchChromium();
  context = await browser.newContext({ ignoreHTTPSErrors: true });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await rt?.close();
});

describe("HTTP/2 in Chromium", () => {
  it(`streams to ${TABS} tabs of one origin at once over one HTTP/2 connection`, async () => {
    const pages: Page[] = [];
    const reports: Array<Array<{ kind: string; data?: unknown }>> = [];
    for (let i = 0; i < TABS; i++) {
      const page = await context.newPage();
      const mine: Array<{ kind: string; data?: unknown }> = [];
      reports.push(mine);
      await page.exposeFunction("tlReport", (r: { kind: string; data?: unknown }) => void mine.push(r));
      await page.goto(`${origin}/`, { timeout: 15_000 });
      pages.push(page);
    }
    // Every tab opens its SSE channel; none waits for another to finish.
    const opened = await within(
      Promise.all(pages.map((p) => p.evaluate(([ms]) => (window as unknown as { start(t: string, ms: number): Promise<{ transport: string }> }).start("sse", ms), [15_000] as const))),
      `${TABS} SSE channels to open`,
      30_000,
    );
    expect(opened.map((o) => o.transport)).toEqual(Array.from({ length: TABS }, () => "sse"));
    await waitFor(() => rt.connectionCount === TABS, `${TABS} open streams on the server`, 15_000);

    rt.publish("browser", "to every tab");
    rt.publish("browser", { n: 2 });
    const got = (i: number) => reports[i]!.filter((r) => r.kind === "message").map((r) => r.data);
    await waitFor(() => reports.every((_, i) => got(i).length >= 2), "both messages in every tab", 15_000);
    for (let i = 0; i < TABS; i++) expect(got(i)).toEqual(["to every tab", { n: 2 }]);

    // All streaming at once, over HTTP/2, on a single connection.
    expect(rt.connectionCount).toBe(TABS);
    expect(new Set(sseVersions)).toEqual(new Set(["2.0"]));
    expect(new Set(sseSessions).size).toBe(1);
    for (const p of pages) await p.evaluate(() => (window as unknown as { ch?: { close(): void } }).ch?.close()).catch(() => undefined);
  });
});
