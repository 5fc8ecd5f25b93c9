/**
 * The client bundled by esbuild for browsers, run in headless Chromium (Debian's, driven by
 * playwright-core) against the fake server: native fetch streaming, native WebSocket.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "esbuild";
import { chromium, type Browser, type Page } from "playwright-core";
import type { TransportName } from "@throughline/wire";
import { startFakeServer, type FakeServer } from "./helpers/fake-server.js";
import { waitFor } from "./helpers/wait.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const src = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

let server: FakeServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [src("client/src/index.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    minify: true,
    write: false,
    alias: { "@throughline/wire": src("wire/src/index.ts") },
  });
  const js = bundle.outputFiles[0]!.text;
  server = await startFakeServer();
  server.intercept = (_req, res, route) => {
    if (route === "/client.js") {
      res.writeHead(200, { "content-type": "text/javascript" }).end(js);
      return true;
    }
    if (route === "/index.html") {
      res.writeHead(200, { "content-type": "text/html" }).end(`<!doctype html><script type="module">import * as tl from "./client.js"; window.tl = tl;</script>`);
      return true;
    }
    return false;
  };
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  page = await browser.newPage();
  await page.goto(`${server.url}/index.html`);
  await page.waitForFunction(() => "tl" in window, undefined, { timeout: 10_000 });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe.each(["sse", "websocket", "long-poll"] as const)("in Chromium over %s", (name: TransportName) => {
  it("opens, receives messages, sends one and closes", async () => {
    const received = server.received.length;
    const opened = page.evaluate(async ({ url, name }) => {
      const w = window as unknown as { tl: typeof import("@throughline/client"); ch?: import("@throughline/client").Channel; got?: unknown[] };
      const ch = (w.ch = w.tl.connect(url, { transports: [name], topics: ["b"] }));
      w.got = [];
      ch.on("*", (m) => w.got!.push(m.data));
      await new Promise((resolve, reject) => {
        ch.on("open", resolve);
        setTimeout(() => reject(new Error("no open")), 10_000);
      });
      return ch.transport;
    }, { url: server.url, name });
    expect(await opened).toBe(name);
    await waitFor(() => server.connectionCount >= 1, "the browser's connection");
    server.publish("b", { text: "ünï\nline" });
    server.publish("b", 2);
    await page.waitForFunction(() => ((window as unknown as { got: unknown[] }).got.length >= 2), undefined, { timeout: 10_000 });
    expect(await page.evaluate(() => (window as unknown as { got: unknown[] }).got)).toEqual([{ text: "ünï\nline" }, 2]);
    await page.evaluate(() => (window as unknown as { ch: import("@throughline/client").Channel }).ch.send("from the browser"));
    await waitFor(() => server.received.slice(received).some((f) => f.type === "message"), "the browser's message");
    expect(server.received.slice(received).find((f) => f.type === "message")).toEqual({ type: "message", data: "from the browser" });
    await page.evaluate(() => (window as unknown as { ch: import("@throughline/client").Channel }).ch.close());
    await waitFor(() => server.connectionCount === 0, "the browser to let go");
  });
});
