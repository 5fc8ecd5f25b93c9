import { afterEach, describe, expect, it } from "vitest";
import { cleanup, FakeClock, heldPoll, hello, messages, openSse, poll, start, waitFor, within } from "./helpers.js";

afterEach(cleanup);

describe("injected clock", () => {
  it("drives the SSE heartbeat, hello time and session expiry", async () => {
    const clock = new FakeClock();
    const { url, rt } = await start({ clock, heartbeatMs: 1_000, sessionTtlMs: 5_000 });
    const c = await openSse(`${url}/sse`);
    await waitFor(() => c.frames.length >= 1, "the hello");
    expect(hello(c.frames).time).toBe(clock.time);
    clock.advance(1_000);
    await waitFor(() => c.frames.some((f) => f.type === "heartbeat"), "a heartbeat");
    expect(c.frames.find((f) => f.type === "heartbeat")).toEqual({ type: "heartbeat", time: clock.time });
    c.close();
    await waitFor(() => rt.connectionCount === 0, "the connection to go");
    clock.advance(4_999);
    expect(rt.sessionCount).toBe(1);
    clock.advance(1);
    expect(rt.sessionCount).toBe(0);
  });

  it("answers a held poll with a heartbeat when the hold elapses, and a held poll keeps the session alive", async () => {
    const clock = new FakeClock();
    const { url, rt } = await start({ clock, longPollHoldMs: 10_000, sessionTtlMs: 3_000 });
    const h = hello((await poll(url)).frames);
    const held = poll(url, { session: h.session, cursor: h.cursor });
    await waitFor(() => heldPoll(rt, h.session) === true, "the held poll");
    clock.advance(9_999);
    expect(rt.sessionCount).toBe(1); // longer than the TTL, but the poll is held
    clock.advance(1);
    const r = await within(held, "the heartbeat answer");
    expect(r.frames).toEqual([{ type: "heartbeat", time: clock.time }]);
    // Without a next poll, the session expires one TTL later; its next poll is then unknown.
    clock.advance(3_000);
    expect(rt.sessionCount).toBe(0);
    expect(rt.connectionCount).toBe(0);
    const late = await poll(url, { session: h.session, cursor: h.cursor });
    expect(late.status).toBe(404);
  });

  it("evicts history by age on the clock: a resume past maxAgeMs gets an evicted gap", async () => {
    const clock = new FakeClock();
    const { url, rt } = await start({ clock, history: { maxAgeMs: 60_000 } });
    const first = rt.publish("news", "old");
    clock.advance(30_000);
    const second = rt.publish("news", "newer");
    clock.advance(30_000); // the first is now 60 s old: evicted
    const c = await openSse(`${url}/sse?topics=news&cursor=${rt.epoch}-0`);
    await waitFor(() => c.frames.length >= 3, "hello, gap and replay");
    expect(c.frames[1]).toEqual({ type: "gap", topic: "news", reason: "evicted", cursor: `${rt.epoch}-0` });
    expect(messages(c.frames).map((m) => m.id)).toEqual([second]);
    expect(first).not.toBe(second);
  });
});
