/**
 * The doctor page in real headless Chromium, served by the server (`doctorPage`) and reached
 * through hostile networks: the rendered results say what is in the way. Screenshots are kept
 * in packages/doctor/test-results/ (gitignored) as artefacts.
 */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHostileProxy, startTestServer, type Behaviour, type TestServer } from "@throughline/testkit";
import { launchChromium } from "@throughline/testkit/chromium";
import { doctorPage } from "@throughline/doctor/page";
import { build } from "../../../scripts/build.mjs";

const RESULTS = fileURLToPath(new URL("../test-results/", import.meta.url));

let server: TestServer;
let browser: Browser;
beforeAll(async () => {
  await build({ quiet: true });
  mkdirSync(RESULTS, { recursive: true });
  server = await startTestServer({ doctorPage: doctorPage() });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function visit(name: string, behaviours: Behaviour[]): Promise<Page> {
  const proxy = behaviours.length ? await startHostileProxy(`http://127.0.0.1:${server.port}`, behaviours) : undefined;
  const base = proxy ? `${proxy.url}/realtime` : server.url;
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => void (m.type() === "error" && /Content Security Policy/.test(m.text()) && errors.push(m.text())));
  try {
    await page.goto(`${base}/doctor?timeout=3000&watch=1500`);
    await page.waitForSelector("body[data-state=done]", { timeout: 25_000 });
    await page.screenshot({ path: `${RESULTS}doctor-${name}.png`, fullPage: true });
  } finally {
    await proxy?.close();
  }
  expect(errors).toEqual([]);
  return page;
}

const outcome = (page: Page, t: string) => page.getAttribute(`section[data-transport="${t}"]`, "data-outcome");

describe("the doctor page in Chromium", () => {
  it("direct: every transport proven, healthy, the report ready to copy", async () => {
    const page = await visit("direct", []);
    expect(await page.getAttribute("body", "data-health")).toBe("healthy");
    for (const t of ["sse", "websocket", "long-poll"]) expect(await outcome(page, t)).toBe("proven");
    expect(await page.textContent("#verdict h2")).toBe("HEALTHY: your browser would use sse");
    expect(await page.textContent("#report")).toMatch(/throughline doctor http:\/\/127\.0\.0\.1:\d+\/realtime/);
    await page.click("#copy");
    await page.waitForFunction(() => document.getElementById("copied")!.textContent !== "");
    await page.close();
  });

  it("buffer-all: the page shows SSE held until the end and WebSocket chosen", async () => {
    const page = await visit("buffer-all", [{ kind: "buffer-all" }]);
    expect(await outcome(page, "sse")).toBe("timeout");
    expect(await page.textContent('section[data-transport="sse"] .buffering')).toMatch(/held-until-end/);
    expect(await page.textContent("#verdict h2")).toBe("DEGRADED: your browser would use websocket");
    await page.close();
  });

  it("refuse-upgrade: the WebSocket card shows the failed upgrade; SSE still healthy", async () => {
    const page = await visit("refuse-upgrade", [{ kind: "refuse-upgrade" }]);
    expect(await outcome(page, "websocket")).toBe("blocked");
    // Browsers do not reveal a refused upgrade's status: only that it failed.
    expect(await page.textContent('section[data-transport="websocket"] .upgrade')).toMatch(/failed/);
    expect(await page.getAttribute("body", "data-health")).toBe("healthy");
    await page.close();
  });

  it("hold-first-event: the first event held until the second, seen from the browser", async () => {
    const page = await visit("hold-first-event", [{ kind: "hold-first-event" }]);
    expect(await outcome(page, "sse")).toBe("buffered");
    expect(await page.textContent('section[data-transport="sse"] .buffering')).toMatch(/first-event-held/);
    await page.close();
  });
});
