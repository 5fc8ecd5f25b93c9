/**
 * examples/effect-notifications as a user runs it: after a build, the Layer-based server in a
 * child process and the Node client (consuming a Stream) in another, over loopback.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, build } from "../../../scripts/build.mjs";
import { waitFor, within } from "@throughline/testkit";

let server: ChildProcess | undefined;
let exited: Promise<number | null>;
let stdout = "";
let stderr = "";
let url: string;

beforeAll(async () => {
  await build({ quiet: true });
  server = spawn(process.execPath, [join(ROOT, "examples/effect-notifications/server.mjs")], {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", INTERVAL_MS: "200" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  exited = new Promise((resolve) => server!.once("exit", (code) => resolve(code)));
  server.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  server.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const early = exited.then((code) => {
    throw new Error(`the Effect demo server exited (${code}) before listening:\n${stderr}`);
  });
  await within(Promise.race([waitFor(() => /demo on (http:\/\/\S+)/.test(stdout), "the demo URL", 20_000), early]), "the demo server", 25_000);
  url = /demo on (http:\/\/\S+)/.exec(stdout)![1]!;
});

afterAll(async () => {
  if (server && server.exitCode === null && server.signalCode === null) {
    server.kill("SIGKILL");
    await exited;
  }
});

/** Runs the example client to completion (bounded), returning its exit code and output. */
function runClient(count: number): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, "examples/effect-notifications/client.mjs"), url], {
      cwd: ROOT,
      env: { ...process.env, COUNT: String(count) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), 25_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe("examples/effect-notifications", () => {
  it("the client prints decoded notifications from a Stream, and its reply comes back through the server's Stream", async () => {
    const { code, out, err } = await runClient(5);
    expect(err).toBe("");
    expect(code).toBe(0);
    const lines = out.split("\n").filter((l) => l.startsWith("["));
    expect(lines).toHaveLength(5);
    expect(lines).toContain("[reply] Reply: hello from an Effect client");
    expect(out).toMatch(/^transport: (sse|websocket|long-poll)$/m);
  });

  it("SIGTERM interrupts the server program: layers close, then it exits", async () => {
    server!.kill("SIGTERM");
    expect(await within(exited, "the server to exit", 10_000)).toBe(0);
    expect(stdout).toContain("closed (SIGTERM)");
  });
});
