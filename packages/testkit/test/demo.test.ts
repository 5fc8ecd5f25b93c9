/**
 * The notifications demo as a user runs it: `node examples/notifications/server.mjs` after a
 * build, in a child process, reached over loopback by the Node client and by Chromium.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Channel } from "@throughline/client/node";
import type { Message } from "@throughline/wire";
import { ROOT, build } from "../../../scripts/build.mjs";
import { launchChromium } from "../src/chromium.js";
import { waitFor, within } from "../src/wait.js";

const SCREENSHOT = "/tmp/demo.png";

let child: ChildProcess | undefined;
let exited: Promise<number | null>;
let stdout = "";
let stderr = "";
let url: string;
const channels: Channel[] = [];
let browser: Browser | undefined;

beforeAll(async () => {
  await build({ quiet: true });
  child = spawn(process.execPath, [join(ROOT, "examples/notifications/server.mjs")], {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  exited = new Promise((resolve) => child!.once("exit", (code) => resolve(code)));
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const exitedEarly = exited.then((code) => {
    throw new Error(`demo server exited (${code}) before listening:\n${stderr}`);
  });
  const listening = waitFor(() => /Throughline demo on (http:\/\/\S+)/.test(stdout), "the demo's URL on stdout", 20_000);
  await within(Promise.race([listening, exitedEarly]), "the demo server to start", 25_000);
  url = /Throughline demo on (http:\/\/\S+)/.exec(stdout)![1]!;
});

afterAll(async () => {
  for (const ch of channels) ch.close();
  await browser?.close();
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM");
    const code = await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000, "timeout"))]);
    if (code === "timeout") {
      child.kill("SIGKILL");
      await exited;
    }
  }
});

const notification = (m: Message) => m.data as { title?: unknown; body?: unknown; level?: unknown; time?: unknown };

describe("the notifications demo", () => {
  it("prints its loopback URL with the port it got", () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*\/$/);
  });

  it("serves the page, its script and the client bundle from the same origin", async () => {
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain("Throughline");
    expect(html).not.toMatch(/src="https?:/); // no CDN
    for (const path of ["throughline.js", "app.js"]) {
      const res = await fetch(new URL(path, url));
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toMatch(/^text\/javascript/);
      await res.arrayBuffer();
    }
    // The doctor page (linked from the demo) and the Prometheus metrics.
    const doctor = await fetch(new URL("realtime/doctor", url));
    expect(doctor.status).toBe(200);
    expect(await doctor.text()).toContain("Throughline doctor");
    const metrics = await fetch(new URL("metrics", url));
    expect(await metrics.text()).toMatch(/^throughline_connections\{transport="sse"\} \d+$/m);
    const missing = await fetch(new URL("../package.json", url));
    expect(missing.status).toBe(404);
    await missing.arrayBuffer();
  });

  it("publishes notifications that a Node client receives over SSE", async () => {
    const ch = connect(new URL("realtime", url).href, { topics: ["notifications"], transports: ["sse"] });
    channels.push(ch);
    const got: Message[] = [];
    ch.on("*", (m: Message) => void got.push(m));
    await waitFor(() => got.length > 0, "a notification (one every 2 s)", 15_000);
    expect(ch.transport).toBe("sse");
    const m = got[0]!;
    expect(m.topic).toBe("notifications");
    expect(["info", "warning"]).toContain(m.event);
    const n = notification(m);
    expect(typeof n.title).toBe("string");
    expect(typeof n.body).toBe("string");
    expect(n.level).toBe(m.event);
    expect(Number.isNaN(Date.parse(String(n.time)))).toBe(false);

    // A reply goes back to the server and out again to everyone as event "reply".
    await ch.send({ text: "thanks — ✓" });
    await waitFor(() => got.some((x) => x.event === "reply"), "the reply to come back", 15_000);
    expect(notification(got.find((x) => x.event === "reply")!).body).toBe("thanks — ✓");
  });

  it("shows live events in Chromium (screenshot in /tmp/demo.png)", async () => {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(`${url}?transport=websocket`, { timeout: 15_000 });
    await page.waitForFunction(() => document.querySelectorAll("#events li:not(.empty)").length >= 2, undefined, { timeout: 15_000 });
    await page.click("#reply", { timeout: 10_000 });
    await page.waitForSelector("#events li.reply", { timeout: 15_000 });
    expect(await page.textContent("#transport")).toBe("websocket");
    expect(await page.textContent("#state")).toBe("open");
    // The negotiation, live: the proving attempt and why this transport is the one in use.
    expect(await page.textContent("#attempts")).toMatch(/websocket.*proven/);
    expect(await page.textContent("#why")).toMatch(/^On websocket \(connect\): proven in \d+ ms/);
    await page.screenshot({ path: SCREENSHOT });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("closes gracefully on SIGTERM", async () => {
    child!.kill("SIGTERM");
    const code = await within(exited, "the demo server to exit", 10_000);
    expect(code).toBe(0);
    expect(stdout).toContain("closed (SIGTERM)");
  });
});
