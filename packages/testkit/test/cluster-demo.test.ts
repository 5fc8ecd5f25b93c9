/**
 * The cluster demo as a user runs it (`node examples/cluster/run.mjs`, issue #12): Redis, three
 * notification nodes and a round-robin nginx, with a node SIGKILLed and restarted every 6 s. The
 * page is served through nginx, a Node client and Chromium receive notifications through it across
 * the kills, and `--seconds` stops everything the example started (checked by PID).
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
import { alive, descendants, refused } from "./helpers/processes.js";

/** How long the example runs before it stops itself; every check below happens within it. */
const SECONDS = 40;

let child: ChildProcess | undefined;
let exited: Promise<number | null>;
let stdout = "";
let stderr = "";
let url: string;
let channel: Channel | undefined;
let browser: Browser | undefined;

/** Every pid the example printed (Redis, nginx, each node start), so teardown can check and end them. */
const pids = () => [...stdout.matchAll(/\(pid (\d+)\)|nginx pid (\d+)/g)].map((m) => Number(m[1] ?? m[2]));
/** Sequence number of an id `<epoch>-<seq>`. */
const seqOf = (id: string) => Number(id.slice(id.lastIndexOf("-") + 1));

beforeAll(async () => {
  await build({ quiet: true });
  // Its own Redis (not one named by the environment), a kill every 6 s: nginx marks a failed node
  // down for 10 s (fail_timeout), and the faster the kills, the more often all three are marked
  // ("no live upstreams": 502 to everyone, and the page's client backs off up to 30 s).
  const env: NodeJS.ProcessEnv = { ...process.env, KILL_EVERY_MS: "6000" };
  delete env.REDIS_URL;
  child = spawn(process.execPath, [join(ROOT, "examples/cluster/run.mjs"), "--seconds", String(SECONDS)], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  exited = new Promise((resolve) => child!.once("exit", (code) => resolve(code)));
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const early = exited.then((code) => {
    throw new Error(`cluster example exited (${code}) before serving:\n${stdout}\n${stderr}`);
  });
  const serving = waitFor(() => /cluster demo on (http:\/\/\S+)/.test(stdout), "the cluster demo's URL", 30_000, 50);
  await within(Promise.race([serving, early]), "the cluster example to start", 35_000);
  url = /cluster demo on (http:\/\/\S+)/.exec(stdout)![1]!;
}, 90_000);

afterAll(async () => {
  channel?.close();
  await browser?.close();
  // Only after a failure is anything left: the example's own shutdown first, then by pid.
  if (child && child.exitCode === null && child.signalCode === null) {
    const left = descendants(child.pid!);
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    for (const pid of [...left, ...pids()]) if (alive(pid)) process.kill(pid, "SIGKILL");
  }
});

describe("the cluster demo (examples/cluster/run.mjs)", () => {
  it("serves the demo page through nginx and keeps delivering while nodes are killed, then stops everything", async () => {
    // The page and the client bundle, through the proxy.
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Throughline");
    const bundle = await fetch(new URL("throughline.js", url));
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toMatch(/^text\/javascript/);
    await bundle.arrayBuffer();

    // The demo page in Chromium, through the proxy, for the whole run (checked at the end).
    browser = await launchChromium();
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on("pageerror", (err) => errors.push(err.message));
    await tab.goto(url, { timeout: 20_000 });

    // Long-poll: every poll is a new request, so round-robin spreads them over every node.
    channel = connect(new URL("realtime", url).href, { topics: ["notifications"], transports: ["long-poll"], reconnect: { minDelayMs: 50, maxDelayMs: 500 } });
    const got: Message[] = [];
    const gaps: unknown[] = [];
    channel.on("*", (m: Message) => void got.push(m));
    channel.on("gap", (g) => void gaps.push(g));

    // A node is killed and comes back up; messages keep arriving after that.
    await waitFor(() => /killing (node\d)[^\n]*\n[\s\S]*\1 up \(pid/.test(stdout), "a node killed and restarted", 25_000, 50);
    const before = got.length;
    await waitFor(() => got.length >= before + 2, "two notifications after a restart", 20_000, 50);

    await tab.waitForFunction(() => document.querySelectorAll("#events li:not(.empty)").length >= 1, undefined, { timeout: 20_000 });
    expect(errors).toEqual([]);
    await browser.close();
    browser = undefined;
    channel.close();

    // One history (one epoch), one shared sequence: consecutive ids mean nothing lost, nothing twice.
    const epochs = new Set(got.map((m) => m.id.slice(0, m.id.lastIndexOf("-"))));
    expect(epochs.size).toBe(1);
    const seqs = got.map((m) => seqOf(m.id));
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    expect(gaps).toEqual([]);
    expect((stdout.match(/killing node/g) ?? []).length).toBeGreaterThan(0);

    // --seconds: the example stops by itself, and with it everything it started.
    const code = await within(exited, "the example to stop after --seconds", (SECONDS + 30) * 1_000);
    expect(code, `exit code; stderr:\n${stderr}`).toBe(0);
    expect(stdout).toContain("stopped");
    const started = pids();
    expect(started.length).toBeGreaterThanOrEqual(5); // Redis, nginx, three nodes (and restarts)
    await waitFor(() => started.every((pid) => !alive(pid)), "every process the example started to end", 10_000, 50);
    expect(await refused(Number(new URL(url).port))).toBe(true);
  }, (SECONDS + 60) * 1_000);
});
