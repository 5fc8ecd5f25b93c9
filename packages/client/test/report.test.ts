/**
 * `reportDiagnostics`: posts the channel's attempts after each open, each attempt once, with
 * the channel's headers and token; stops on close. A real server counts what arrives.
 */
import { afterEach, describe, expect, it } from "vitest";
import { connect, type Channel } from "@throughline/client/node";
import { reportDiagnostics } from "@throughline/client/report";
import { startTestServer, waitFor, type TestServer } from "@throughline/testkit";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function server(): Promise<TestServer> {
  const s = await startTestServer({ authenticate: (req) => (req.headers.authorization === "Bearer t" ? { id: "u" } : null) });
  cleanup.push(() => s.close());
  return s;
}

describe("reportDiagnostics", () => {
  it("posts after each open, never the same attempt twice, with the token", async () => {
    const s = await server();
    const bodies: { attempts: { transport: string; outcome: string }[]; transport: string }[] = [];
    const spy: typeof fetch = async (input, init) => {
      if (String(input).includes("/diagnostics")) bodies.push(JSON.parse(String(init?.body)));
      return fetch(input, init);
    };
    const ch: Channel = connect(s.url, { topics: ["a"], transports: ["sse"], token: "t" });
    cleanup.push(() => ch.close());
    reportDiagnostics(ch, { fetch: spy, token: "t", delayMs: 10 });
    await waitFor(() => s.rt.stats().reports === 1, "the first report");
    expect(bodies[0]).toMatchObject({ transport: "sse", attempts: [{ transport: "sse", outcome: "proven" }] });
    // A reconnect (the server restarts) reports only the attempts since, to the new hub.
    await s.restart();
    await waitFor(() => s.rt.stats().reports === 1, "the report after the reconnect");
    expect(bodies).toHaveLength(2);
    expect(bodies[1]!.attempts.some((a) => a.outcome === "proven")).toBe(true);
    expect(bodies[1]!.attempts.length).toBeLessThan(ch.diagnostics.length);
  });

  it("stops when the channel closes (nothing posted after)", async () => {
    const s = await server();
    let posts = 0;
    const spy: typeof fetch = async (input, init) => {
      if (String(input).includes("/diagnostics")) posts++;
      return fetch(input, init);
    };
    const ch = connect(s.url, { topics: ["a"], transports: ["sse"], token: "t" });
    reportDiagnostics(ch, { fetch: spy, token: "t", delayMs: 300 });
    await new Promise<void>((resolve) => ch.on("open", () => resolve()));
    ch.close();
    await new Promise((r) => setTimeout(r, 600));
    expect(posts).toBe(0);
  });
});
