/**
 * One set of checks every framework mount must pass, over real sockets: SSE, long-poll, the
 * send route (its body unread by the framework, the message reaching `on("message")` with the
 * authenticated user), the ticket route and a WebSocket upgrade, and the framework's own routes
 * still answering next to ours.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type ThroughlineServer } from "@throughline/server";
import { cleanup, hello, httpRequest, messages, onCleanup, openSse, openWs, waitFor } from "../helpers.js";

/** A framework app serving `rt` (and `GET /app` → 200 "app"), listening on 127.0.0.1. */
export type MountApp = (rt: ThroughlineServer) => Promise<{ origin: string; close(): Promise<void> }>;

const AUTH = { authorization: "Bearer t" };
const USER = Object.freeze({ id: "alice" });

export function describeFramework(name: string, mount: MountApp, options: { websocket?: boolean } = {}): void {
  describe(`mounted in ${name}`, () => {
    afterEach(cleanup);

    const setup = async () => {
      const rt = createServer({ authenticate: (req) => (req.headers.authorization === "Bearer t" ? USER : null) });
      const app = await mount(rt);
      onCleanup(() => app.close());
      onCleanup(() => rt.close());
      return { rt, base: `${app.origin}${rt.path}`, origin: app.origin };
    };

    it("serves an SSE stream: hello, then a published message", async () => {
      const { rt, base } = await setup();
      const sse = await openSse(`${base}/sse?topics=t`, AUTH);
      expect(sse.status).toBe(200);
      expect(sse.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
      await waitFor(() => sse.frames.length >= 1, "the hello");
      expect(hello(sse.frames).transport).toBe("sse");
      rt.publish("t", { n: 1 });
      await waitFor(() => messages(sse.frames).length === 1, "the message");
      expect(messages(sse.frames)[0]!.data).toEqual({ n: 1 });
    });

    it("serves long-poll: the first poll answers the hello", async () => {
      const { base } = await setup();
      const res = await httpRequest(`${base}/poll?topics=t`, { headers: AUTH });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)[0]).toMatchObject({ type: "hello", transport: "long-poll" });
    });

    it("reads a POST …/send body itself and hands the message and the authenticated user to on('message')", async () => {
      const { rt, base } = await setup();
      const got: Array<{ data: unknown; user: unknown; session: string }> = [];
      rt.on("message", (data, session, user) => got.push({ data, user, session: session.id }));
      const first = await httpRequest(`${base}/poll?topics=t`, { headers: AUTH });
      const session = (JSON.parse(first.body)[0] as { session: string }).session;
      const sent = await httpRequest(`${base}/send?session=${session}`, {
        method: "POST",
        headers: { ...AUTH, "content-type": "application/json" },
        body: JSON.stringify({ type: "message", data: { hi: "ünï" } }),
      });
      expect(sent.status).toBe(204);
      await waitFor(() => got.length === 1, "the message");
      expect(got[0]).toEqual({ data: { hi: "ünï" }, user: USER, session });
    });

    it("refuses an unauthenticated request with the marked 401", async () => {
      const { base } = await setup();
      const res = await httpRequest(`${base}/poll?topics=t`);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body).error.code).toBe("TL_UNAUTHORIZED");
      expect(res.headers["x-throughline"]).toBeDefined();
    });

    it("leaves the application's own routes to the framework", async () => {
      const { origin } = await setup();
      const res = await httpRequest(`${origin}/app`);
      expect([res.status, res.body]).toEqual([200, "app"]);
    });

    if (options.websocket !== false) {
      it("upgrades a WebSocket with a ticket and delivers a message over it", async () => {
        const { rt, base } = await setup();
        const t = await httpRequest(`${base}/ticket`, { method: "POST", headers: AUTH });
        expect(t.status).toBe(200);
        const { ticket } = JSON.parse(t.body) as { ticket: string };
        const ws = await openWs(`${base}/ws?topics=t&ticket=${encodeURIComponent(ticket)}`);
        await waitFor(() => ws.frames.length >= 1, "the hello");
        expect(hello(ws.frames).transport).toBe("websocket");
        rt.publish("t", "over ws");
        await waitFor(() => messages(ws.frames).length === 1, "the message");
        expect(messages(ws.frames)[0]!.data).toBe("over ws");
      });
    }
  });
}
