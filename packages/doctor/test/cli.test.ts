/**
 * The CLI: usage errors, --json, exit codes, --token/--header, colour and the progress line.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHostileProxy, startTestServer, type TestServer } from "@throughline/testkit";
import { EXIT_CODES } from "@throughline/doctor";
import { main, type CliIo } from "../src/cli.js";

function capture(tty = false): CliIo & { stdout: string; stderr: string; env: Record<string, string | undefined> } {
  const io = { stdout: "", stderr: "", tty, env: {} as Record<string, string | undefined>, out: (s: string) => void (io.stdout += s), err: (s: string) => void (io.stderr += s) };
  return io;
}

let server: TestServer;
let authed: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  authed = await startTestServer({
    authenticate: (req) => (req.headers.authorization === "Bearer good" && req.headers["x-tenant"] === "acme" ? { id: "u" } : null),
  });
});
afterAll(async () => {
  await server?.close();
  await authed?.close();
});

const FAST = ["--timeout", "3000", "--watch", "1000"];

describe("throughline CLI", () => {
  it("exits 64 with the usage for a missing command, a bad URL or a bad option", async () => {
    for (const argv of [[], ["doctor"], ["nope", "http://x"], ["doctor", "not a url"], ["doctor", "ftp://x/y"], ["doctor", "http://x", "--watch", "-1"], ["doctor", "http://x", "--header", "novalue"], ["doctor", "http://x", "--transports", "sse,carrier-pigeon"], ["doctor", "http://x", "--bogus"]]) {
      const io = capture();
      expect(await main(argv, io), argv.join(" ")).toBe(EXIT_CODES.usage);
      expect(io.stderr).toMatch(/throughline: /);
      expect(io.stdout).toBe("");
    }
  });

  it("--help prints the usage and exits 0", async () => {
    const io = capture();
    expect(await main(["--help"], io)).toBe(0);
    expect(io.stdout).toMatch(/usage: throughline doctor <url>/);
  });

  it("--json prints the report; exit 0 when healthy", async () => {
    const io = capture();
    expect(await main(["doctor", server.url, "--json", ...FAST], io)).toBe(EXIT_CODES.healthy);
    const report = JSON.parse(io.stdout);
    expect(report.verdict).toMatchObject({ health: "healthy", pick: "sse" });
    expect(report.transports).toHaveLength(3);
    expect(io.stderr).toBe("");
  });

  it("human output without a terminal: no colour, progress lines on stderr, exit 1 when degraded", async () => {
    const proxy = await startHostileProxy(`http://127.0.0.1:${server.port}`, [{ kind: "buffer-all" }]);
    try {
      const io = capture();
      expect(await main(["doctor", `${proxy.url}/realtime`, ...FAST], io)).toBe(EXIT_CODES.degraded);
      expect(io.stdout).toMatch(/verdict {4}DEGRADED: the negotiator would pick websocket/);
      expect(io.stdout).toMatch(/held-until-end/);
      expect(io.stdout).not.toMatch(/\x1b\[/);
      expect(io.stderr).toMatch(/… probing sse, websocket, long-poll/);
    } finally {
      await proxy.close();
    }
  });

  it("on a terminal: colour and a redrawn progress line; NO_COLOR turns colour off", async () => {
    const io = capture(true);
    expect(await main(["doctor", server.url, "--transports", "sse", ...FAST], io)).toBe(0);
    expect(io.stdout).toMatch(/\x1b\[32m/);
    expect(io.stderr).toMatch(/\r\x1b\[2K/);
    const plain = capture(true);
    plain.env.NO_COLOR = "1";
    expect(await main(["doctor", server.url, "--transports", "sse", ...FAST], plain)).toBe(0);
    expect(plain.stdout).not.toMatch(/\x1b\[/);
  });

  it("without credentials the server's own 401 is 'rejected' (exit 2, credentials fix); --token and --header get through", async () => {
    const denied = capture();
    expect(await main(["doctor", authed.url, "--json", ...FAST], denied)).toBe(EXIT_CODES.failing);
    const r = JSON.parse(denied.stdout);
    // The WebSocket's refusal is only a failed socket to the negotiator; the doctor still shows the server's 401.
    expect(r.transports.map((t: { outcome: string }) => t.outcome)).toEqual(["rejected", "blocked", "rejected"]);
    expect(r.transports[0]).toMatchObject({ status: 401, answeredBy: "throughline" });
    expect(r.transports[1]).toMatchObject({ upgrade: { result: "refused", status: 401, byServer: true } });
    expect(r.verdict.fixes[0]).toMatchObject({ problem: "rejected" });
    const ok = capture();
    expect(await main(["doctor", authed.url, "--json", "--token", "good", "--header", "X-Tenant: acme", ...FAST], ok)).toBe(EXIT_CODES.healthy);
    expect(JSON.parse(ok.stdout).transports.every((t: { outcome: string }) => t.outcome === "proven")).toBe(true);
  });
});
