/**
 * Issue #10, "one session from the first request": a client proposes its session id
 * (QUERY.propose); the first request creates the session under it, bound to the authenticated
 * user; later attempts name the same id and join it, starting where the session began, so what
 * was published in between reaches whichever attempt wins. Another user can never join it.
 */
import type { IncomingMessage } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { MIN_PROPOSED_SESSION_CHARS, newSessionId } from "@throughline/wire";
import type { ServerOptions } from "@throughline/server";
import { cleanup, hello, httpRequest, messages, openSse, openWs, poll, start, waitFor } from "./helpers.js";

afterEach(cleanup);

const AUTH: ServerOptions = {
  authenticate: (req: Pick<IncomingMessage, "headers">) => {
    const h = req.headers.authorization;
    return h === "Bearer alice-token" ? { id: "alice" } : h === "Bearer bob-token" ? { id: "bob" } : null;
  },
};
const ALICE = { authorization: "Bearer alice-token" };
const BOB = { authorization: "Bearer bob-token" };

describe("a session proposed by the client", () => {
  it("is created under the proposed id by the first request, and a later attempt without a cursor joins it from there", async () => {
    const { rt, url } = await start();
    const id = newSessionId();
    // The first attempt (SSE) reaches the server; its bytes may never reach the client.
    const first = await openSse(`${url}/sse?topics=t&session=${id}&propose=1`);
    await waitFor(() => first.frames.length >= 1, "hello");
    expect(hello(first.frames).session).toBe(id);
    const during = [rt.publish("t", 1), rt.publish("t", 2)];
    // The attempt that wins (WebSocket), later, has no cursor: it starts at the session's start.
    const ws = await openWs(`${url.replace(/^http/, "ws")}/ws?topics=t&session=${id}&propose=1`);
    await waitFor(() => messages(ws.frames).length >= 2, "the replay of what was published during negotiation");
    expect(hello(ws.frames).session).toBe(id);
    expect(messages(ws.frames).map((m) => m.id)).toEqual(during);
    expect(rt.sessionCount).toBe(1);
  });

  it("starts a long-poll joining the proposed session at the session's start too", async () => {
    const { rt, url } = await start();
    const id = newSessionId();
    const sse = await openSse(`${url}/sse?topics=t&session=${id}&propose=1`);
    await waitFor(() => sse.frames.length >= 1, "hello");
    const published = rt.publish("t", "x");
    const p = await poll(url, { topics: "t", session: id, propose: "1", connect: "1" });
    expect(p.status).toBe(200);
    expect(hello(p.frames).session).toBe(id);
    expect(messages(p.frames).map((m) => m.id)).toEqual([published]);
  });

  it("refuses a short proposal (fewer than 128 random bits) as an unknown session", async () => {
    const { url } = await start();
    const r = await httpRequest(`${url}/sse?topics=t&session=${"a".repeat(MIN_PROPOSED_SESSION_CHARS - 1)}&propose=1`);
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body).error.code).toBe("TL_UNKNOWN_SESSION");
  });

  it("is bound to its user: another user proposing or naming the same id gets 404 and never joins", async () => {
    const { url } = await start(AUTH);
    const id = newSessionId();
    const alice = await openSse(`${url}/sse?topics=t&session=${id}&propose=1`, ALICE);
    await waitFor(() => alice.frames.length >= 1, "hello");
    expect(hello(alice.frames).session).toBe(id);
    for (const path of [`/sse?topics=t&session=${id}&propose=1`, `/poll?topics=t&session=${id}&propose=1&connect=1`]) {
      const r = await httpRequest(`${url}${path}`, { headers: BOB });
      expect(r.status).toBe(404);
      expect(JSON.parse(r.body).error.code).toBe("TL_UNKNOWN_SESSION");
    }
    // Alice's second attempt joins.
    const again = await openSse(`${url}/sse?topics=t&session=${id}&propose=1`, ALICE);
    await waitFor(() => again.frames.length >= 1, "hello");
    expect(hello(again.frames).session).toBe(id);
  });
});
