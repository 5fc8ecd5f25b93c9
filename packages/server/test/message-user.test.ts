/** `onMessage` / `on("message")` receive the session's authenticated user, on every transport. */
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, hello, httpRequest, openWs, start, waitFor } from "./helpers.js";

afterEach(cleanup);

describe("the user of a client→server message", () => {
  it("is what authenticate returned, for a WebSocket message (ticket) and through the onMessage option", async () => {
    const got: unknown[] = [];
    const user = { id: "bob", role: "admin" };
    const { url, rt } = await start({
      authenticate: (req) => (req.headers.authorization === "Bearer b" ? user : null),
      onMessage: (data, session, u) => void got.push({ data, u, same: session.user === u }),
    });
    const t = await httpRequest(`${url}/ticket`, { method: "POST", headers: { authorization: "Bearer b" } });
    const ws = await openWs(`${url}/ws?topics=t&ticket=${encodeURIComponent((JSON.parse(t.body) as { ticket: string }).ticket)}`);
    await waitFor(() => ws.frames.length >= 1, "the hello");
    expect(rt.getSession(hello(ws.frames).session)!.user).toEqual(user);
    ws.send({ type: "message", data: "hi" });
    await waitFor(() => got.length === 1, "the message");
    expect(got).toEqual([{ data: "hi", u: user, same: true }]);
  });

  it("is undefined without authenticate", async () => {
    const got: unknown[] = [];
    const { url, rt } = await start();
    rt.on("message", (data, _session, u) => void got.push([data, u]));
    const ws = await openWs(`${url}/ws?topics=t`);
    await waitFor(() => ws.frames.length >= 1, "the hello");
    ws.send({ type: "message", data: 1 });
    await waitFor(() => got.length === 1, "the message");
    expect(got).toEqual([[1, undefined]]);
  });
});
