/**
 * `npm start` stops with its process (issue #11): killing the pid of `npm start` used to leave the
 * demo server running, because the shell of `npm run build && node …` did not pass the signal
 * on. Now `prestart` builds and `start` is `exec node …`, so the process npm signals is node.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../../../scripts/build.mjs";
import { waitFor, within } from "../src/wait.js";
import { alive, descendants, refused } from "./helpers/processes.js";

const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

let npm: ChildProcess | undefined;
const started: number[] = [];

afterAll(() => {
  // Only on failure is anything left: end it by pid, server first.
  for (const pid of [...started].reverse()) if (alive(pid)) process.kill(pid, "SIGKILL");
  if (npm && npm.exitCode === null && npm.signalCode === null) npm.kill("SIGKILL");
});

describe("npm start", () => {
  it("builds first, serves, and is gone with its server when the npm process is killed", async () => {
    let stdout = "";
    let stderr = "";
    npm = spawn(NPM, ["start"], { cwd: ROOT, env: { ...process.env, PORT: "0", HOST: "127.0.0.1" }, stdio: ["ignore", "pipe", "pipe"] });
    const child = npm;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    // prestart runs the whole typed build first: generous bound on a busy machine.
    await waitFor(() => /Throughline demo on http:\/\/\S+:(\d+)\//.test(stdout) || child.exitCode !== null, "the demo's URL", 170_000);
    const port = Number(/Throughline demo on http:\/\/\S+:(\d+)\//.exec(stdout)?.[1]);
    expect(port, `npm start printed no URL:\n${stdout}\n${stderr}`).toBeGreaterThan(0);
    expect(stdout).toContain("> prestart");
    started.push(...descendants(child.pid!));
    expect(started.length).toBeGreaterThan(0);
    expect(await refused(port)).toBe(false);

    child.kill("SIGTERM");
    await within(exited, "npm to exit", 20_000);
    // The server heard the signal (its graceful shutdown line) and nothing npm started lives on.
    await waitFor(() => started.every((pid) => !alive(pid)), "every process npm start started to end", 20_000);
    expect(stdout).toContain("closed (SIGTERM)");
    expect(await refused(port)).toBe(true);
  }, 240_000);
});
