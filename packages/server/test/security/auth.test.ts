import type { IncomingMessage } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { ServerOptions } from "@throughline/server";
import { cleanup, hello, httpRequest, messages, openSse, poll, start, waitFor, within } from "../helpers.js";
import { errorCode, recordingLogger, tryWs } from "./util.js";

afterEach(cleanup);

const TOKENS: Record<string, { id: string; topics: string[] }> = {
  "secret-token-alice-0123456789": { id: "alice", topics: ["news", "alice"] },
  "secret-token-bob-0123456789": { id: "bob", topics: ["news", "bob"] },
};

function bearer(req: Pick<IncomingMessage, "headers">): string | undefined {
  const h = req.headers.authorization;
  return typeof h === "string" && h.startsWith("Bearer ") ? h.slice(7) : undefined;
}

/** Bearer tokens from TOKENS; users may read the topics listed for them. */
const AUTH: ServerOptions = {
  authenticate: (req) => {
    const t = bearer(req);
    return t && TOKENS[t] ? { id: TOKENS[t].id } : null;
  },
  authorize: (user, topic) => TOKENS[Object.keys(TOKENS).find((k) => TOKENS[k]!.id === (user as { id: string }).id)!]!.topics.includes(topic),
};
const ALICE = { authorization: "Bearer secret-token-alice-0123456789" };

async function ticketFor(url: string, headers: Record<string, string>): Promise<{ status: number; ticket?: string; expiresInMs?: number; body: string }> {
  const r = await httpRequest(`${url}/ticket`, { method: "POST", headers });
  const parsed = r.status === 200 ? (JSON.parse(r.body) as { ticket: string; expiresInMs: number }) : {};
  return { status: r.status, body: r.body, ...parsed };
}

describe("authentication", () => {
  it("answers a marked 401 TL_UNAUTHORIZED on every HTTP route when authenticate returns null", async () => {
    const { url } = await start(AUTH);
    for (const [path, method] of [["/sse?topics=news", "GET"], ["/poll?topics=news", "GET"], ["/send?session=x", "POST"], ["/ticket", "POST"]] as const) {
      const r = await httpRequest(`${url}${path}`, { method, headers: { authorization: "Bearer wrong-token-xyz" }, body: method === "POST" ? "{}" : undefined });
      expect(r.status, path).toBe(401);
      expect(r.headers["x-throughline"]).toBe("1");
      expect(errorCode(r.body)).toBe("TL_UNAUTHORIZED");
      expect(r.body).not.toContain("wrong-token-xyz");
    }
  });

  it("treats an authenticate that throws or rejects as 401, never as a crash", async () => {
    for (const authenticate of [() => { throw new Error("db down secret-token"); }, () => Promise.reject(new Error("nope"))]) {
      const { url } = await start({ authenticate });
      const r = await httpRequest(`${url}/sse`, { headers: ALICE });
      expect(r.status).toBe(401);
      expect(r.body).not.toContain("secret-token");
    }
  });

  it("refuses a WebSocket upgrade without credentials with a marked 401", async () => {
    const { url } = await start(AUTH);
    const a = await tryWs(`${url}/ws?topics=news`);
    expect(a.status).toBe(401);
    expect(a.headers?.["x-throughline"]).toBe("1");
    expect(errorCode(a.body ?? "")).toBe("TL_UNAUTHORIZED");
  });

  it("lets an authenticated client stream over SSE and long-poll and send", async () => {
    const received: unknown[] = [];
    const { url, rt } = await start({ ...AUTH, onMessage: (d) => void received.push(d) });
    const sse = await openSse(`${url}/sse?topics=news`, ALICE);
    expect(sse.status).toBe(200);
    await waitFor(() => sse.frames.length >= 1, "hello");
    const first = await (async () => {
      const u = new URL(`${url}/poll`);
      u.searchParams.set("topics", "news");
      return httpRequest(u.toString(), { headers: ALICE });
    })();
    expect(first.status).toBe(200);
    rt.publish("news", "hi");
    await waitFor(() => messages(sse.frames).length === 1, "message");
    const session = hello(sse.frames).session;
    const sent = await httpRequest(`${url}/send?session=${session}`, { method: "POST", headers: ALICE, body: JSON.stringify({ type: "message", data: 1 }) });
    expect(sent.status).toBe(204);
    expect(received).toEqual([1]);
  });

  it("reports another user's session as unknown (404), so session ids cannot be borrowed", async () => {
    const { url } = await start(AUTH);
    const sse = await openSse(`${url}/sse?topics=news`, ALICE);
    await waitFor(() => sse.frames.length >= 1, "hello");
    const session = hello(sse.frames).session;
    const bob = { authorization: "Bearer secret-token-bob-0123456789" };
    const send = await httpRequest(`${url}/send?session=${session}`, { method: "POST", headers: bob, body: JSON.stringify({ type: "message", data: 1 }) });
    expect(send.status).toBe(404);
    expect(errorCode(send.body)).toBe("TL_UNKNOWN_SESSION");
    const resume = await httpRequest(`${url}/sse?topics=news&session=${session}`, { headers: bob });
    expect(resume.status).toBe(404);
  });
});

describe("authorization", () => {
  it("answers 403 TL_FORBIDDEN for a topic the user may not read (SSE and long-poll), including all topics", async () => {
    const { url } = await start(AUTH);
    for (const topics of ["bob", "news,bob", "*"]) {
      const r = await httpRequest(`${url}/sse?topics=${topics}`, { headers: ALICE });
      expect(r.status, topics).toBe(403);
      expect(errorCode(r.body)).toBe("TL_FORBIDDEN");
      const p = await httpRequest(`${url}/poll?topics=${topics}`, { headers: ALICE });
      expect(p.status, topics).toBe(403);
    }
  });

  it("closes a WebSocket asking for a forbidden topic with 4403 after the upgrade, so browsers see the code", async () => {
    const { url } = await start(AUTH);
    const { ticket } = await ticketFor(url, ALICE);
    const a = await tryWs(`${url}/ws?topics=bob&ticket=${ticket}`);
    expect(a.status).toBeUndefined();
    expect((await within(a.closed, "close")).code).toBe(4403);
    expect(a.frames).toEqual([expect.objectContaining({ type: "close", code: 4403 })]);
  });

  it("treats an authorize that throws as a refusal", async () => {
    const { url } = await start({ authorize: () => { throw new Error("boom"); } });
    const r = await httpRequest(`${url}/sse?topics=a`);
    expect(r.status).toBe(403);
  });
});

describe("WebSocket tickets", () => {
  it("exchanges a bearer token for a short-lived 128-bit ticket that opens one WebSocket", async () => {
    const { url, rt } = await start(AUTH);
    const t = await ticketFor(url, ALICE);
    expect(t.status).toBe(200);
    expect(t.ticket).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(t.expiresInMs).toBe(30_000);
    const a = await tryWs(`${url}/ws?topics=news&ticket=${t.ticket}`);
    expect(a.status).toBeUndefined();
    await waitFor(() => a.frames.length >= 1, "hello");
    rt.publish("news", "x");
    await waitFor(() => messages(a.frames).length === 1, "message");
  });

  it("refuses a replayed, unknown or malformed ticket with 401", async () => {
    const { url } = await start(AUTH);
    const { ticket } = await ticketFor(url, ALICE);
    const first = await tryWs(`${url}/ws?topics=news&ticket=${ticket}`);
    expect(first.status).toBeUndefined();
    for (const bad of [ticket!, "A".repeat(22), "garbage", "", "%00".repeat(30)]) {
      const a = await tryWs(`${url}/ws?topics=news&ticket=${bad}`);
      expect(a.status, bad).toBe(401);
      expect(a.body).not.toContain(ticket);
    }
  });

  it("refuses an expired ticket", async () => {
    const { url } = await start({ ...AUTH, ticketTtlMs: 50 });
    const { ticket } = await ticketFor(url, ALICE);
    await new Promise((r) => setTimeout(r, 150));
    expect((await tryWs(`${url}/ws?topics=news&ticket=${ticket}`)).status).toBe(401);
  });

  it("has no ticket route without authenticate (404), and bounds outstanding tickets (429 + Retry-After)", async () => {
    const plain = await start();
    expect((await ticketFor(plain.url, ALICE)).status).toBe(404);
    const { url } = await start({ ...AUTH, maxTickets: 2 });
    expect((await ticketFor(url, ALICE)).status).toBe(200);
    expect((await ticketFor(url, ALICE)).status).toBe(200);
    const r = await httpRequest(`${url}/ticket`, { method: "POST", headers: ALICE });
    expect(r.status).toBe(429);
    expect(r.headers["retry-after"]).toBe("1");
  });

  it("caps outstanding tickets per user (maxConnectionsPerUser), so one user cannot lock others out", async () => {
    const BOB = { authorization: "Bearer secret-token-bob-0123456789" };
    const { url } = await start({ ...AUTH, maxConnectionsPerUser: 2 });
    expect((await ticketFor(url, ALICE)).status).toBe(200);
    const second = await ticketFor(url, ALICE);
    expect(second.status).toBe(200);
    expect((await ticketFor(url, ALICE)).status).toBe(429);
    expect((await ticketFor(url, BOB)).status).toBe(200);
    // Spending one frees a slot for its user.
    const ws = await tryWs(`${url}/ws?topics=news&ticket=${second.ticket}`);
    expect(ws.status).toBeUndefined(); // upgraded
    ws.ws.close();
    expect((await ticketFor(url, ALICE)).status).toBe(200);
  });
});

describe("credential expiry", () => {
  it("closes SSE, WebSocket and long-poll connections with 4401 when expiresAt passes", async () => {
    const expiring: ServerOptions = {
      authenticate: (req) => (bearer(req) ? { user: "carol", expiresAt: Date.now() + 300 } : null),
      longPollHoldMs: 5_000,
    };
    const { url } = await start(expiring);
    const auth = { authorization: "Bearer short-lived-token" };
    const sse = await openSse(`${url}/sse?topics=a`, auth);
    const { ticket } = await ticketFor(url, auth);
    const ws = await tryWs(`${url}/ws?topics=a&ticket=${ticket}`);
    const u = new URL(`${url}/poll`);
    const first = await httpRequest(`${u}?topics=a`, { headers: auth });
    const h = JSON.parse(first.body)[0] as { session: string; cursor: string };
    const held = await httpRequest(`${u}?session=${h.session}&cursor=${h.cursor}`, { headers: auth });
    expect(JSON.parse(held.body)).toEqual([expect.objectContaining({ type: "close", code: 4401 })]);
    await within(sse.ended, "SSE end");
    expect(sse.frames.at(-1)).toMatchObject({ type: "close", code: 4401 });
    expect((await within(ws.closed, "WS close")).code).toBe(4401);
  });

  it("refuses credentials that are already expired with 401", async () => {
    const { url } = await start({ authenticate: () => ({ user: "dave", expiresAt: Date.now() - 1 }) });
    expect((await httpRequest(`${url}/sse`)).status).toBe(401);
  });
});

describe("logging", () => {
  it("logs refusals with code, route and address but never a token, a ticket or a query string", async () => {
    const logger = recordingLogger();
    const { url } = await start({ ...AUTH, logger });
    const token = "secret-token-never-logged-42";
    await httpRequest(`${url}/sse?topics=news`, { headers: { authorization: `Bearer ${token}` } });
    await httpRequest(`${url}/ticket`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    const { ticket } = await ticketFor(url, ALICE);
    await tryWs(`${url}/ws?topics=bob&ticket=${ticket}`);
    await tryWs(`${url}/ws?topics=news&ticket=${ticket}`); // replay: refused, logged
    await tryWs(`${url}/ws?topics=news&ticket=${"Z".repeat(22)}`);
    await poll(url, { topics: "news" });
    expect(logger.lines.length).toBeGreaterThanOrEqual(4);
    const all = logger.lines.join("\n");
    expect(all).toContain("TL_UNAUTHORIZED");
    expect(all).toContain("127.0.0.1");
    for (const secret of [token, "secret-token-alice", ticket!, "Z".repeat(22), "topics="]) expect(all).not.toContain(secret);
  });

  it("logs a server error by name only: an application's message may quote a token", async () => {
    const logger = recordingLogger();
    const { url } = await start({ logger, authenticate: () => ({ user: "x", expiresAt: "soon" as unknown as number }) });
    const r = await httpRequest(`${url}/sse`);
    expect(r.status).toBe(500);
    expect(logger.lines.some((l) => l.includes('"level":"error"') && l.includes("TL_INTERNAL"))).toBe(true);
  });
});
