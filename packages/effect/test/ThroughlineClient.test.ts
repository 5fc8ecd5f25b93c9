import { describe, expect, it } from "vitest";
import * as Clock from "effect/Clock";
import * as Context from "effect/Context";
import * as Effect from "effect/Effect";
import * as Fiber from "effect/Fiber";
import * as Layer from "effect/Layer";
import * as Schedule from "effect/Schedule";
import * as Schema from "effect/Schema";
import * as Stream from "effect/Stream";
import * as SubscriptionRef from "effect/SubscriptionRef";
import { TestClock } from "effect/testing";
import { ThroughlineClient, ThroughlineServer, Topic } from "@throughline/effect";
import type { ThroughlineClient as Client } from "@throughline/effect/client";
import { httpServer, within } from "./helpers.js";

const Alerts = Topic.make("alerts", Schema.Struct({ text: Schema.String }));
const Counter = Topic.make("count", Schema.Struct({ n: Schema.Number }));

/** A Throughline server mounted on a loopback http server, both closed with the scope. */
const server = (options: ThroughlineServer.ServerOptions = {}) =>
  Effect.gen(function* () {
    const { server, base } = yield* httpServer;
    const rt = yield* ThroughlineServer.make({ heartbeatMs: 1_000, longPollHoldMs: 1_000, retryMs: 50, ...options, attach: server });
    return { rt, url: `${base}/realtime` };
  });

/** A scoped test: a server, a TestClock, and a channel whose timers (Schedules) run on that clock. */
const onTestClock = <A>(options: Client.ConnectOptions, body: (t: { rt: ThroughlineServer.Service; ch: Client.Channel; clock: TestClock.TestClock }) => Effect.Effect<A, unknown>) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const { rt, url } = yield* server();
        const clock = yield* TestClock.make();
        const ch = yield* ThroughlineClient.connect(url, options).pipe(Effect.provideService(Clock.Clock, clock));
        return yield* body({ rt, ch, clock });
      }),
    ),
  );

/** Waits (real time, bounded) until the ref holds a value satisfying `ok`. */
const until = <A>(ref: SubscriptionRef.SubscriptionRef<A>, ok: (a: A) => boolean, what: string) =>
  within(SubscriptionRef.changes(ref).pipe(Stream.filter(ok), Stream.runHead), what);

describe("ThroughlineClient", () => {
  it("streams messages (all, per topic decoded, per event), sends, and tracks state and transport", async () => {
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const { rt, url } = yield* server();
          const received = yield* Effect.forkChild(Stream.runCollect(Stream.take(rt.messages, 1)));
          const states: number[] = [];
          const ch = yield* ThroughlineClient.connect(url, { topics: ["alerts", "count"], transports: ["websocket"] });
          yield* Effect.forkChild(Stream.runForEach(SubscriptionRef.changes(ch.state), (s) => Effect.sync(() => states.push(s))));
          const all = yield* Effect.forkChild(Stream.runCollect(Stream.take(ch.messages, 3)));
          const alerts = yield* Effect.forkChild(Stream.runCollect(Stream.take(ch.topic(Alerts), 1)));
          const pings = yield* Effect.forkChild(Stream.runCollect(Stream.take(ch.event("ping"), 1)));
          yield* until(ch.state, (s) => s === ThroughlineClient.OPEN, "open");
          expect(yield* SubscriptionRef.get(ch.transport)).toBe("websocket");
          yield* rt.publish(Alerts, { text: "a" });
          yield* rt.publish(Counter, { n: 1 }, { event: "ping" });
          yield* rt.publish("alerts", { text: "b" });
          const got = yield* within(Fiber.join(all), "all messages");
          expect(got.map((m) => [m.topic, m.event, m.data])).toEqual([
            ["alerts", "message", { text: "a" }],
            ["count", "ping", { n: 1 }],
            ["alerts", "message", { text: "b" }],
          ]);
          const typed = yield* within(Fiber.join(alerts), "alerts");
          expect(typed[0]!.data.text).toBe("a");
          expect((yield* within(Fiber.join(pings), "pings"))[0]!.data).toEqual({ n: 1 });
          expect(yield* ch.cursor).toBe(got[2]!.id);
          yield* ch.send({ hello: "server" });
          expect((yield* within(Fiber.join(received), "server received"))[0]!.data).toEqual({ hello: "server" });
          expect(states).toContain(ThroughlineClient.OPEN);
        }),
      ),
    );
  });

  it("closing the scope closes the channel: state CLOSED, streams end, the server sees the session go", async () => {
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const { rt, url } = yield* server();
          const { ch, messages } = yield* Effect.scoped(
            Effect.gen(function* () {
              const ch = yield* ThroughlineClient.connect(url, { transports: ["websocket"] });
              const messages = yield* Effect.forkDetach(Stream.runCollect(ch.messages));
              yield* until(ch.state, (s) => s === ThroughlineClient.OPEN, "open");
              expect(rt.core.connectionCount).toBe(1);
              return { ch, messages };
            }),
          );
          expect(yield* SubscriptionRef.get(ch.state)).toBe(ThroughlineClient.CLOSED);
          expect(yield* within(Fiber.join(messages), "stream end")).toEqual([]);
          expect(yield* ch.closed).toBeUndefined();
          yield* within(Effect.promise(async () => { while (rt.core.connectionCount > 0) await new Promise((r) => setTimeout(r, 10)); }), "server connection gone");
          const sendAfter = yield* Effect.flip(ch.send(1));
          expect(sendAfter).toMatchObject({ _tag: "ConnectionLostError", code: "TL_CLOSED" });
        }),
      ),
    );
  });

  it("interrupting the fiber that holds the scope closes the channel", async () => {
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const { rt, url } = yield* server();
          const fiber = yield* Effect.forkChild(
            Effect.scoped(Effect.flatMap(ThroughlineClient.connect(url, { transports: ["websocket"] }), (ch) => Stream.runDrain(ch.messages))),
          );
          yield* within(Effect.promise(async () => { while (rt.core.connectionCount < 1) await new Promise((r) => setTimeout(r, 10)); }), "connected");
          yield* Fiber.interrupt(fiber);
          yield* within(Effect.promise(async () => { while (rt.core.connectionCount > 0) await new Promise((r) => setTimeout(r, 10)); }), "server connection gone");
        }),
      ),
    );
  });

  it("a message that does not match its topic's schema fails the stream with SchemaMismatchError, or is skipped", async () => {
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const { rt, url } = yield* server();
          const ch = yield* ThroughlineClient.connect(url, { topics: ["alerts"], transports: ["websocket"] });
          const failing = yield* Effect.forkChild(
            Stream.runCollect(ch.topic(Alerts)).pipe(Effect.catchTag("SchemaMismatchError", (e) => Effect.succeed(e))),
          );
          const skipping = yield* Effect.forkChild(Stream.runCollect(Stream.take(ch.topic(Alerts, { onMismatch: "skip" }), 2)));
          yield* until(ch.state, (s) => s === ThroughlineClient.OPEN, "open");
          yield* rt.publish("alerts", { text: "ok" });
          const badId = yield* rt.publish("alerts", { text: 42 });
          yield* rt.publish("alerts", { text: "still ok" });
          const mismatch = yield* within(Fiber.join(failing), "mismatch");
          expect(mismatch).toMatchObject({ _tag: "SchemaMismatchError", direction: "decode", topic: "alerts", id: badId });
          expect((yield* within(Fiber.join(skipping), "skip")).map((m) => m.data.text)).toEqual(["ok", "still ok"]);
        }),
      ),
    );
  });

  it("the token is an Effect using the app's auth service; a refusal fails the streams with AuthError (catchTag)", async () => {
    class Auth extends Context.Service<Auth, { readonly token: Effect.Effect<string> }>()("test/Auth") {}
    let calls = 0;
    const AuthLive = Layer.succeed(Auth, { token: Effect.sync(() => (++calls, "t0k3n")) });
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const { url } = yield* server({ authenticate: (req) => Effect.succeed(req.headers.authorization === "Bearer t0k3n" ? "user" : null) });
          const good = yield* ThroughlineClient.connect(url, { transports: ["sse"], token: Auth.use((a) => a.token) });
          yield* until(good.state, (s) => s === ThroughlineClient.OPEN, "open with the service's token");
          expect(calls).toBeGreaterThan(0);
          const bad = yield* ThroughlineClient.connect(url, { transports: ["sse"], token: "wrong", reconnect: false });
          const outcome = yield* within(Stream.runDrain(bad.messages).pipe(Effect.as("ended"), Effect.catchTag("AuthError", (e) => Effect.succeed(e.code))), "refusal");
          expect(outcome).toBe("TL_UNAUTHORIZED");
          expect((yield* bad.closed)?._tag).toBe("AuthError");
          // A token Effect that fails fails that attempt (the core reports TL_CONNECT_FAILED "the token
          // function failed"); the channel ends with a tagged error whose cause chain keeps the app's error.
          const failing = yield* ThroughlineClient.connect(url, { transports: ["sse"], token: Effect.fail("no session"), reconnect: false });
          const final = yield* within(failing.closed, "token failure");
          expect(final?._tag).toBe("ConnectionLostError");
          const chain: unknown[] = [];
          const walk = (c: unknown): void => {
            if (Array.isArray(c)) return c.forEach(walk);
            chain.push(c);
            if (c && typeof c === "object" && "cause" in c) walk((c as { cause: unknown }).cause);
          };
          walk(final);
          expect(chain.some((c) => (c as { code?: string })?.code === "TL_UNAUTHORIZED")).toBe(true);
          expect(chain).toContain("no session");
        }),
      ).pipe(Effect.provide(AuthLive)),
    );
  });

  it("messages held while no stream runs go to the first stream; past holdLimit the channel fails instead of dropping", async () => {
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const { rt, url } = yield* server();
          const held = yield* ThroughlineClient.connect(url, { topics: ["count"], transports: ["websocket"] });
          const over = yield* ThroughlineClient.connect(url, { topics: ["count"], transports: ["websocket"], holdLimit: 2 });
          yield* until(held.state, (s) => s === ThroughlineClient.OPEN, "open");
          yield* until(over.state, (s) => s === ThroughlineClient.OPEN, "open");
          for (let n = 0; n < 3; n++) yield* rt.publish(Counter, { n });
          const error = yield* within(over.closed, "overflow");
          expect(error).toMatchObject({ _tag: "InvalidInputError", code: "TL_INVALID_OPTION" });
          expect(error?.message).toContain("holdLimit");
          // The other channel held all three for its first stream.
          expect((yield* within(Stream.runCollect(Stream.take(held.topic(Counter), 3)), "held")).map((m) => m.data.n)).toEqual([0, 1, 2]);
        }),
      ),
    );
  });

  it("invalid options fail connect with InvalidInputError", async () => {
    const e1 = await Effect.runPromise(Effect.flip(Effect.scoped(ThroughlineClient.connect("ftp://x"))));
    expect(e1).toMatchObject({ _tag: "InvalidInputError", code: "TL_INVALID_OPTION" });
    const e2 = await Effect.runPromise(Effect.flip(Effect.scoped(ThroughlineClient.connect("http://127.0.0.1:1/realtime", { topics: ["bad topic"] }))));
    expect(e2).toMatchObject({ _tag: "InvalidInputError", code: "TL_BAD_TOPIC" });
    const e3 = await Effect.runPromise(Effect.flip(Effect.scoped(ThroughlineClient.connect("http://127.0.0.1:1/realtime", { holdLimit: -1 }))));
    expect(e3).toMatchObject({ _tag: "InvalidInputError", code: "TL_INVALID_OPTION" });
  });

  it("reconnects on the Schedule's rhythm (TestClock), resuming from the cursor with nothing lost", async () => {
    await onTestClock(
      { topics: ["count"], transports: ["websocket"], reconnect: Schedule.spaced("1 minute") },
      ({ rt, ch, clock }) =>
      Effect.gen(function* () {
        const got = yield* Effect.forkChild(Stream.runCollect(Stream.take(ch.topic(Counter), 6)));
        const errors = yield* Effect.forkChild(Stream.runHead(ch.errors));
        yield* until(ch.state, (s) => s === ThroughlineClient.OPEN, "open");
        for (let n = 0; n < 3; n++) yield* rt.publish(Counter, { n });
        yield* within(Effect.promise(async () => { while ((await Effect.runPromise(ch.cursor)) === null || rt.core.sessionCount === 0) await new Promise((r) => setTimeout(r, 10)); }), "first messages");
        // The server drops the session (1001: reconnect and resume); meanwhile three more messages.
        const sessionId = ch.core().session!;
        yield* within(Effect.promise(async () => { while (!rt.core.getSession(sessionId)) await new Promise((r) => setTimeout(r, 10)); }), "session");
        rt.core.getSession(sessionId)!.close(1001, "test restart");
        expect((yield* within(Fiber.join(errors), "the loss reported"))).toMatchObject({ _tag: "Some", value: { _tag: "ConnectionLostError", closeCode: 1001 } });
        for (let n = 3; n < 6; n++) yield* rt.publish(Counter, { n });
        // Real time passes; the Schedule's minute has not: no reconnect yet.
        yield* Effect.promise(() => new Promise((r) => setTimeout(r, 300)));
        expect(yield* SubscriptionRef.get(ch.state)).toBe(ThroughlineClient.CONNECTING);
        expect(rt.core.connectionCount).toBe(0);
        yield* clock.adjust("1 minute");
        yield* until(ch.state, (s) => s === ThroughlineClient.OPEN, "reopened after the schedule's delay");
        expect((yield* within(Fiber.join(got), "all six")).map((m) => m.data.n)).toEqual([0, 1, 2, 3, 4, 5]);
      }),
    );
  });

  it("a send while the Schedule waits to reconnect fails with TL_SEND_FAILED after connectTimeoutMs (TestClock)", async () => {
    await onTestClock({ transports: ["websocket"], reconnect: Schedule.spaced("1 hour"), connectTimeoutMs: 5_000 }, ({ rt, ch, clock }) =>
      Effect.gen(function* () {
        yield* until(ch.state, (s) => s === ThroughlineClient.OPEN, "open");
        rt.core.getSession(ch.core().session!)!.close(1001, "bye");
        yield* until(ch.state, (s) => s === ThroughlineClient.CONNECTING, "waiting to reconnect");
        const send = yield* Effect.forkChild(Effect.flip(ch.send({ late: true })).pipe(Effect.provideService(Clock.Clock, clock)));
        yield* Effect.promise(() => new Promise((r) => setTimeout(r, 100)));
        yield* clock.adjust("5 seconds");
        expect(yield* within(Fiber.join(send), "send failure")).toMatchObject({ _tag: "ConnectionLostError", code: "TL_SEND_FAILED" });
      }),
    );
  });

  it("with reconnect: false a lost connection ends the channel with its tagged error", async () => {
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const { rt, url } = yield* server();
          const ch = yield* ThroughlineClient.connect(url, { transports: ["websocket"], reconnect: false });
          const drained = yield* Effect.forkChild(Effect.flip(Stream.runDrain(ch.messages)));
          yield* until(ch.state, (s) => s === ThroughlineClient.OPEN, "open");
          rt.core.getSession(ch.core().session!)!.close(4429, "slow down");
          const error = yield* within(Fiber.join(drained), "stream failure");
          expect(error).toMatchObject({ _tag: "RateLimitedError", closeCode: 4429 });
        }),
      ),
    );
  });

  it("climbs back to the preferred transport on the climb Schedule (TestClock), without loss or duplicates", async () => {
    await onTestClock(
      { topics: ["count"], transports: ["websocket", "long-poll"], climb: Schedule.spaced("10 minutes") },
      ({ rt, ch, clock }) =>
      Effect.gen(function* () {
        const got = yield* Effect.forkChild(Stream.runCollect(Stream.take(ch.topic(Counter), 6)));
        yield* until(ch.transport, (t) => t === "websocket", "websocket");
        yield* rt.publish(Counter, { n: 0 });
        yield* ch.switchTransport("long-poll");
        expect(yield* SubscriptionRef.get(ch.transport)).toBe("long-poll");
        for (let n = 1; n < 4; n++) yield* rt.publish(Counter, { n });
        yield* Effect.promise(() => new Promise((r) => setTimeout(r, 300)));
        expect(yield* SubscriptionRef.get(ch.transport)).toBe("long-poll");
        yield* clock.adjust("10 minutes");
        yield* until(ch.transport, (t) => t === "websocket", "climbed back to websocket");
        for (let n = 4; n < 6; n++) yield* rt.publish(Counter, { n });
        expect((yield* within(Fiber.join(got), "all six")).map((m) => m.data.n)).toEqual([0, 1, 2, 3, 4, 5]);
      }),
    );
  });
});
