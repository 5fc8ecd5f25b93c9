/**
 * The real client against the real server with authentication: ticket exchange for WebSocket,
 * one token refresh after a marked 401, no retry storm after a final refusal, and resume without
 * loss after a mid-stream 4401.
 */
import type { IncomingMessage } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { connect, type Channel } from "@throughline/client/node";
import { createServer, type ServerOptions, type ThroughlineServer } from "@throughline/server";
import { parseId, TRANSPORTS, type Message } from "@throughline/wire";
import { sleep, waitFor, within } from "../../src/wait.js";

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

function bearer(req: Pick<IncomingMessage, "headers">): string | undefined {
  const h = req.headers.authorization;
  return typeof h === "string" && h.startsWith("Bearer ") ? h.slice(7) : undefined;
}

async function serve(options: ServerOptions): Promise<{ rt: ThroughlineServer; url: string; urls: string[] }> {
  const rt = createServer({ heartbeatMs: 1_000, longPollHoldMs: 500, retryMs: 20, ...options });
  const { url, server } = await rt.listen(0, "127.0.0.1");
  const urls: string[] = [];
  server.prependListener("request", (req: IncomingMessage) => void urls.push(req.url ?? ""));
  server.prependListener("upgrade", (req: IncomingMessage) => void urls.push(req.url ?? ""));
  open.push(rt);
  return { rt, url, urls };
}

function track(ch: Channel): Channel {
  open.push(ch);
  return ch;
}

describe("client authentication", () => {
  it("trades the token for a ticket on WebSocket: the token never appears in a URL", async () => {
    const token = "tok-secret-ws-0123456789";
    const { url, urls } = await serve({ authenticate: (req) => (bearer(req) === token ? "alice" : null) });
    const ch = track(connect(url, { transports: ["websocket"], token: async () => token }));
    await within(new Promise((r) => ch.on("open", r)), "open");
    expect(urls.some((u) => u.includes("/ws?") && /[?&]ticket=[A-Za-z0-9_-]{22}/.test(u))).toBe(true);
    expect(urls.join("\n")).not.toContain(token);
  });

  for (const transport of TRANSPORTS) {
    it(`refreshes the token once after a marked 401 and connects (${transport})`, async () => {
      const { url } = await serve({ authenticate: (req) => (bearer(req) === "fresh" ? "alice" : null) });
      let calls = 0;
      const ch = track(connect(url, { transports: [transport], token: () => (++calls === 1 ? "stale" : "fresh") }));
      await within(new Promise((r) => ch.on("open", r)), "open");
      expect(calls).toBeGreaterThanOrEqual(2);
    });
  }

  it("stops after the second 401 with TL_UNAUTHORIZED: no reconnect storm", async () => {
    const { url, urls } = await serve({ authenticate: () => null });
    let calls = 0;
    const ch = track(connect(url, { token: () => `bad-${++calls}`, reconnect: { minDelayMs: 1, maxDelayMs: 5 } }));
    const closed = await within(new Promise<{ code: number; error?: { code: string; message: string } }>((r) => ch.on("close", r)), "close");
    expect(closed.error?.code).toBe("TL_UNAUTHORIZED");
    expect(closed.error?.message).not.toMatch(/bad-\d/);
    const seen = urls.length;
    await sleep(500);
    expect(urls.length).toBe(seen);
    expect(seen).toBeLessThanOrEqual(4);
  });

  it("stops at once after a 403, without refreshing the token", async () => {
    const { url } = await serve({ authenticate: () => "alice", authorize: () => false });
    let calls = 0;
    const ch = track(connect(url, { transports: ["sse"], topics: ["secret"], token: () => `t${++calls}` }));
    const closed = await within(new Promise<{ error?: { code: string } }>((r) => ch.on("close", r)), "close");
    expect(closed.error?.code).toBe("TL_FORBIDDEN");
    expect(calls).toBe(1);
  });

  for (const transport of TRANSPORTS) {
    it(`refreshes after a mid-stream 4401 and resumes without losing a message (${transport})`, async () => {
      let version = 0;
      const { rt, url } = await serve({
        authenticate: (req) => {
          const t = bearer(req);
          if (t === "v1") return { user: "alice", expiresAt: Date.now() + 300 };
          return t === "v2" ? { user: "alice", expiresAt: Date.now() + 60_000 } : null;
        },
      });
      const ch = track(connect(url, { transports: [transport], topics: ["t"], token: () => (++version === 1 ? "v1" : "v2"), reconnect: { minDelayMs: 10, maxDelayMs: 50 } }));
      const got: Message[] = [];
      ch.on("*", (m) => void got.push(m));
      let opens = 0;
      ch.on("open", () => void opens++);
      await waitFor(() => opens === 1, "first open");
      let n = 0;
      const timer = setInterval(() => rt.publish("t", n++), 10);
      try {
        await waitFor(() => opens >= 2 && n > 60, "the reconnect after 4401", 15_000);
      } finally {
        clearInterval(timer);
      }
      await waitFor(() => got.length === n, `all ${n} messages (got ${got.length})`, 10_000);
      expect(got.map((m) => m.data)).toEqual([...Array(n).keys()]);
      expect(new Set(got.map((m) => parseId(m.id)!.seq)).size).toBe(n);
    });
  }
});
