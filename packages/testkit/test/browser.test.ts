/**
 * The client's browser bundle in a real Chromium, against a real server on loopback: for each
 * transport, forced with `transports: [t]`, the page connects, receives published messages in
 * order and sends one back.
 */
import { readFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createServer, type ThroughlineServer } from "@throughline/server";
import { parseId, ThroughlineError, TRANSPORTS } from "@throughline/wire";
import { BROWSER_ESM, BROWSER_IIFE, ROOT, build } from "../../../scripts/build.mjs";
import { launchChromium } from "../src/chromium.js";
import { waitFor, within } from "../src/wait.js";

const PAGE = fileURLToPath(new URL("./fixtures/browser-page.html", import.meta.url));

interface Report {
  kind: "message" | "error";
  id?: string;
  topic?: string;
  event?: string;
  data?: unknown;
  code?: string;
  message?: string;
}

/** Payloads that break naive codecs: unicode beyond the BMP, every kind of line end, nesting. */
const PUBLISHED = [
  { event: "greeting", data: "héllo — 日本語 — 🌍🚀 \u2028" },
  { event: "multi-line", data: "line one\nline two\r\nline three\r\n\nafter a blank line" },
  { event: "message", data: { nested: { n: 3, s: "ünïcödé" }, list: [1, "two", null] } },
] as const;

let http: Server;
let rt: ThroughlineServer;
let origin: string;
let browser: Browser;
const received: Array<{ data: unknown; session: unknown }> = [];

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

beforeAll(async () => {
  await build({ quiet: true });
  const files = new Map([
    ["/", { file: PAGE, type: "text/html; charset=utf-8" }],
    ["/throughline.js", { file: join(ROOT, BROWSER_IIFE), type: "text/javascript; charset=utf-8" }],
    ["/throughline.esm.js", { file: join(ROOT, BROWSER_ESM), type: "text/javascript; charset=utf-8" }],
  ]);
  rt = createServer({ heartbeatMs: 1_000, longPollHoldMs: 1_000, retryMs: 50 });
  rt.on("message", (data, session) => received.push({ data, session }));
  const path = rt.path;
  http = createHttpServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://x").pathname;
    if (pathname === path || pathname.startsWith(`${path}/`)) return; // the hub answers these
    const entry = files.get(pathname);
    if (!entry) {
      res.writeHead(404).end();
      return;
    }
    readFile(entry.file).then(
      (body) => res.writeHead(200, { "content-type": entry.type, "cache-control": "no-store" }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  rt.attach(http);
  origin = `http://127.0.0.1:${await listen(http)}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await rt?.close();
  await new Promise<void>((resolve) => {
    if (!http?.listening) return resolve();
    http.close(() => resolve());
    http.closeAllConnections();
  });
});

describe("launchChromium", () => {
  it("refuses a missing executable with TL_INVALID_OPTION and says how to install Chromium", async () => {
    const err = await launchChromium({ executablePath: "/nonexistent/chromium" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThroughlineError);
    expect((err as ThroughlineError).code).toBe("TL_INVALID_OPTION");
    expect((err as ThroughlineError).message).toContain("apt-get install chromium");
    expect((err as ThroughlineError).message).toContain("/nonexistent/chromium");
  });
});

describe("the browser bundle in Chromium", () => {
  let context: BrowserContext | undefined;
  let page: Page;
  let reports: Report[];
  let pageErrors: string[];

  const openPage = async () => {
    context = await browser.newContext();
    page = await context.newPage();
    reports = [];
    pageErrors = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));
    await page.exposeFunction("tlReport", (r: Report) => void reports.push(r));
    await page.goto(`${origin}/`, { timeout: 15_000 });
  };

  afterEach(async () => {
    await page?.evaluate(() => (window as unknown as { ch?: { close(): void } }).ch?.close()).catch(() => undefined);
    await context?.close();
    context = undefined;
  });

  for (const transport of TRANSPORTS) {
    it(`receives messages in order and sends one back over ${transport}`, async () => {
      await openPage();
      const opened = await within(
        page.evaluate(([t, ms]) => (window as unknown as { start(t: string, ms: number): Promise<{ transport: string; readyState: unknown }> }).start(t, ms), [transport, 15_000] as const),
        `${transport} to open in the page`,
        20_000,
      );
      expect(opened.transport).toBe(transport);

      // Not subscribed: must never reach the page (checked by the exact list below).
      rt.publish("elsewhere", "not for this page");
      for (const p of PUBLISHED) rt.publish("browser", p.data, { event: p.event });

      const messages = () => reports.filter((r) => r.kind === "message");
      await waitFor(() => messages().length >= PUBLISHED.length, `3 messages over ${transport}`, 15_000);
      const got = messages();
      expect(got.map((m) => ({ topic: m.topic, event: m.event, data: m.data }))).toEqual(
        PUBLISHED.map((p) => ({ topic: "browser", event: p.event, data: p.data })),
      );
      const seqs = got.map((m) => parseId(m.id)?.seq);
      for (const s of seqs) expect(typeof s).toBe("number");
      expect([...seqs].sort((a, b) => a! - b!)).toEqual(seqs);
      expect(new Set(seqs).size).toBe(seqs.length);

      expect(await page.evaluate(() => (window as unknown as { ch: { transport: string } }).ch.transport)).toBe(transport);

      const reply = { from: "chromium", transport, text: "ünï 👋\nsecond line" };
      const before = received.length;
      await within(
        page.evaluate((r) => (window as unknown as { ch: { send(d: unknown): unknown } }).ch.send(r), reply),
        `send over ${transport}`,
        15_000,
      );
      await waitFor(() => received.length > before, `the server to receive the reply over ${transport}`, 15_000);
      expect(received.slice(before).map((r) => r.data)).toContainEqual(reply);
      expect(reports.filter((r) => r.kind === "error")).toEqual([]);
      expect(pageErrors).toEqual([]);
    });
  }

  it("serves an ESM bundle whose connect() opens a channel with the default transport order", async () => {
    await openPage();
    // A string, not a function: vitest rewrites `import()` inside test code, the page must not see that.
    const script = `import("/throughline.esm.js").then(({ connect }) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no open within 15 s")), 15000);
      window.ch = connect(new URL("/realtime", location.href).href, { topics: ["browser"] });
      window.ch.on("open", () => { clearTimeout(timer); resolve(window.ch.transport); });
    }))`;
    const transport = await within(page.evaluate(script) as Promise<string>, "the ESM bundle's channel to open", 20_000);
    expect(transport).toBe(TRANSPORTS[0]);
    expect(pageErrors).toEqual([]);
  });
});
