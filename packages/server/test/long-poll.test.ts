import { afterEach, describe, expect, it } from "vitest";
import { cleanup, heldPoll, hello, httpRequest, messages, openSse, poll, start, waitFor, within } from "./helpers.js";

afterEach(cleanup);

describe("long-poll transport", () => {
  it("answers the first poll at once with the hello (holdMs included) as JSON", async () => {
    const { url, rt } = await start({ longPollHoldMs: 200 });
    const r = await poll(url);
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(r.headers["cache-control"]).toBe("no-store");
    expect(r.headers["x-throughline"]).toBe("1");
    const h = hello(r.frames);
    expect(h).toMatchObject({ transport: "long-poll", holdMs: 200, cursor: `${rt.epoch}-0` });
    expect(r.frames).toHaveLength(1);
    expect(rt.getSession(h.session)?.transports).toEqual(["long-poll"]);
  });

  it("holds an empty poll and answers it with a heartbeat after holdMs", async () => {
    const { url } = await start({ longPollHoldMs: 200 });
    const first = await poll(url);
    const h = hello(first.frames);
    const second = await poll(url, { session: h.session, cursor: h.cursor });
    expect(second.status).toBe(200);
    expect(second.frames).toEqual([{ type: "heartbeat", time: expect.any(Number) }]);
  });

  it("answers a held poll as soon as a message is published", async () => {
    const { url, rt } = await start({ longPollHoldMs: 20_000 });
    const h = hello((await poll(url, { topics: "news" })).frames);
    const pending = poll(url, { session: h.session, cursor: h.cursor });
    await waitFor(() => rt.getSession(h.session)!.transports.length === 1 && rt.connectionCount === 1, "the held poll");
    // Publish until the held poll is there; a message published before it arrives is queued anyway.
    const id = rt.publish("news", { breaking: true });
    rt.publish("other", "not mine");
    const r = await within(pending, "the held poll's answer");
    expect(r.frames).toEqual([{ type: "message", id, topic: "news", event: "message", data: { breaking: true } }]);
  });

  it("keeps messages until the cursor acknowledges them, then drops them", async () => {
    const { url, rt } = await start({ longPollHoldMs: 200 });
    const h = hello((await poll(url)).frames);
    const id1 = rt.publish("t", 1);
    const id2 = rt.publish("t", 2);
    const a = await poll(url, { session: h.session, cursor: h.cursor });
    expect(messages(a.frames).map((m) => m.id)).toEqual([id1, id2]);
    // The answer was "lost": polling again with the old cursor gets the same messages again.
    const again = await poll(url, { session: h.session, cursor: h.cursor });
    expect(messages(again.frames).map((m) => m.id)).toEqual([id1, id2]);
    // Acknowledging the first leaves the second.
    const partial = await poll(url, { session: h.session, cursor: id1 });
    expect(messages(partial.frames).map((m) => m.id)).toEqual([id2]);
    const id3 = rt.publish("t", 3);
    const b = await poll(url, { session: h.session, cursor: id2 });
    expect(messages(b.frames).map((m) => m.id)).toEqual([id3]);
    // Everything acknowledged: the poll is held and answered with a heartbeat.
    const c = await poll(url, { session: h.session, cursor: id3 });
    expect(c.frames.map((f) => f.type)).toEqual(["heartbeat"]);
  });

  it("answers the older held poll [] when a newer poll of the session arrives", async () => {
    const { url, rt } = await start({ longPollHoldMs: 20_000 });
    const h = hello((await poll(url)).frames);
    const older = poll(url, { session: h.session, cursor: h.cursor });
    const session = rt.getSession(h.session)!;
    // Wait until the older poll is held (it keeps the session alive) before sending the newer one.
    await waitFor(() => heldPoll(rt, h.session) === true, "the first poll to be held");
    const newer = poll(url, { session: h.session, cursor: h.cursor });
    const first = await within(older, "the older poll's answer");
    expect(first.status).toBe(200);
    expect(first.frames).toEqual([]);
    const id = rt.publish("t", "x");
    const second = await within(newer, "the newer poll's answer");
    expect(messages(second.frames).map((m) => m.id)).toEqual([id]);
  });

  it("forgets a held poll whose client went away, keeping the queue for the next poll", async () => {
    const { url, rt } = await start({ longPollHoldMs: 20_000 });
    const h = hello((await poll(url)).frames);
    const u = new URL(`${url}/poll`);
    u.searchParams.set("session", h.session);
    u.searchParams.set("cursor", h.cursor);
    const ac = new AbortController();
    const aborted = fetch(u, { signal: ac.signal }).catch((e: unknown) => e);
    await waitFor(() => heldPoll(rt, h.session) === true, "the poll to be held");
    ac.abort();
    await aborted;
    await waitFor(() => heldPoll(rt, h.session) === false, "the server to drop the held poll");
    const id = rt.publish("t", 1);
    const next = await poll(url, { session: h.session, cursor: h.cursor });
    expect(messages(next.frames).map((m) => m.id)).toEqual([id]);
  });

  it("answers an unknown session with 404 TL_UNKNOWN_SESSION", async () => {
    const { url } = await start();
    const r = await httpRequest(`${url}/poll?session=unknown&cursor=x-1`);
    expect(r.status).toBe(404);
    expect(r.headers["x-throughline"]).toBe("1");
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: "TL_UNKNOWN_SESSION" } });
  });

  it("joins a session created by another transport with a new hello", async () => {
    const { url, rt } = await start({ longPollHoldMs: 200 });
    const sse = await openSse(`${url}/sse`);
    await waitFor(() => sse.frames.length >= 1, "the SSE hello");
    const h = hello(sse.frames);
    const id = rt.publish("t", 1);
    const r = await poll(url, { session: h.session, cursor: h.cursor });
    expect(hello(r.frames)).toMatchObject({ session: h.session, transport: "long-poll", cursor: h.cursor });
    expect(messages(r.frames).map((m) => m.id)).toEqual([id]);
    expect(rt.getSession(h.session)!.transports).toEqual(["sse", "long-poll"]);
  });

  it("delivers a Session.close() to a held poll as a close frame and ends the session", async () => {
    const { url, rt } = await start({ longPollHoldMs: 20_000 });
    const h = hello((await poll(url)).frames);
    const pending = poll(url, { session: h.session, cursor: h.cursor });
    const session = rt.getSession(h.session)!;
    await waitFor(() => heldPoll(rt, h.session) === true, "the held poll");
    session.close(1000, "bye");
    const r = await within(pending, "the answer");
    expect(r.frames).toEqual([{ type: "close", code: 1000, reason: "bye" }]);
    expect(rt.sessionCount).toBe(0);
    expect(rt.connectionCount).toBe(0);
    const after = await poll(url, { session: h.session, cursor: h.cursor });
    expect(after.status).toBe(404);
  });

  it("keeps a close frame for a session closed between polls and delivers it on the next poll", async () => {
    const { url, rt } = await start({ longPollHoldMs: 200 });
    const h = hello((await poll(url)).frames);
    const id = rt.publish("t", "before close");
    rt.getSession(h.session)!.close(4403, "forbidden now");
    const r = await poll(url, { session: h.session, cursor: h.cursor });
    expect(r.frames).toEqual([
      { type: "message", id, topic: "t", event: "message", data: "before close" },
      { type: "close", code: 4403, reason: "forbidden now" },
    ]);
    const after = await poll(url, { session: h.session, cursor: id });
    expect(after.status).toBe(404);
  });

  it("closes a session that polls too slowly with 4408 and lets it start over with a hello", async () => {
    const { url, rt } = await start({ longPollHoldMs: 200, maxBufferedBytes: 4096, maxOutboundBytes: 1024 });
    const h = hello((await poll(url)).frames);
    for (let i = 0; i < 20; i++) rt.publish("t", "x".repeat(500));
    expect(rt.connectionCount).toBe(0);
    const r = await poll(url, { session: h.session, cursor: h.cursor });
    expect(r.frames).toEqual([{ type: "close", code: 4408, reason: expect.any(String) }]);
    const again = await poll(url, { session: h.session, cursor: h.cursor });
    expect(hello(again.frames).session).toBe(h.session);
    // A new connection in the same session, resuming from the history.
    expect(messages(again.frames)).toHaveLength(20);
    expect(rt.connectionCount).toBe(1);
  });
});
