import { describe, expect, it } from "vitest";
import type { IncomingMessage } from "node:http";
import * as Context from "effect/Context";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Scope from "effect/Scope";
import * as Fiber from "effect/Fiber";
import * as Layer from "effect/Layer";
import * as Schema from "effect/Schema";
import * as Stream from "effect/Stream";
import { connect, type Channel } from "@throughline/client/node";
import type { ThroughlineError } from "@throughline/wire";
import { ThroughlineServer, Topic } from "@throughline/effect";
import { httpServer, within } from "./helpers.js";

const Alert = Schema.Struct({ text: Schema.String, level: Schema.Literals(["info", "warn"]) });
const Alerts = Topic.make("alerts", Alert);

const once = <T>(ch: Channel, event: string) => new Promise<T>((resolve) => { const off = ch.on(event as "open", ((v: T) => { off(); resolve(v); }) as never); });

/** The application's own user lookup, provided by its own Layer. */
class Users extends Context.Service<Users, { readonly byToken: (token: string) => Effect.Effect<{ id: string } | null> }>()("test/Users") {}
const UsersLive = Layer.succeed(Users, { byToken: (t) => Effect.succeed(t === "good" ? { id: "u1" } : null) });

const bearer = (req: { readonly headers: IncomingMessage["headers"] }) => (req.headers.authorization ?? "").replace(/^Bearer /, "");

describe("ThroughlineServer", () => {
  it("mounts on the application's http server, publishes encoded data, and leaves other routes to the app", async () => {
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const { server, base } = yield* httpServer;
          const rt = yield* ThroughlineServer.make({ attach: server, topics: [Alerts] });
          expect(yield* Effect.promise(() => fetch(`${base}/elsewhere`).then((r) => r.text()))).toBe("app");
          const ch = connect(`${base}/realtime`, { topics: ["alerts"], transports: ["sse"] });
          yield* Effect.addFinalizer(() => Effect.sync(() => ch.close()));
          yield* Effect.promise(() => once(ch, "open"));
          const got = once<{ data: unknown; id: string }>(ch, "alert");
          const id = yield* rt.publish(Alerts, { text: "disk full", level: "warn" }, { event: "alert" });
          const msg = yield* Effect.promise(() => got);
          expect(msg).toMatchObject({ id, data: { text: "disk full", level: "warn" } });
        }),
      ),
    );
  });

  it("fails publish with tagged errors: schema mismatch (nothing sent), bad topic, too big", async () => {
    const result = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const rt = yield* ThroughlineServer.make({ topics: [Alerts], maxOutboundBytes: 1_024 });
          const mismatch = yield* Effect.flip(rt.publish("alerts", { text: 1 }));
          const typed = yield* Effect.flip(rt.publish(Alerts, { text: "x", level: "loud" } as never));
          const badTopic = yield* Effect.flip(rt.publish("no spaces allowed", 1));
          const tooBig = yield* Effect.flip(rt.publish("other", "x".repeat(2_000)));
          const recovered = yield* rt.publish("alerts", { text: 1 }).pipe(Effect.catchTag("SchemaMismatchError", (e) => Effect.succeed(`skipped: ${e.direction} ${e.topic}`)));
          return { mismatch, typed, badTopic, tooBig, recovered };
        }),
      ),
    );
    expect(result.mismatch).toMatchObject({ _tag: "SchemaMismatchError", direction: "encode", topic: "alerts" });
    expect(result.typed._tag).toBe("SchemaMismatchError");
    expect(result.badTopic).toMatchObject({ _tag: "InvalidInputError", code: "TL_BAD_TOPIC" });
    expect(result.tooBig).toMatchObject({ _tag: "TooBigError", code: "TL_MESSAGE_TOO_BIG" });
    expect(result.recovered).toBe("skipped: encode alerts");
  });

  it("invalid options fail the layer with InvalidInputError naming the option", async () => {
    const error = await Effect.runPromise(Effect.flip(Effect.scoped(ThroughlineServer.make({ heartbeatMs: -1 }))));
    expect(error).toMatchObject({ _tag: "InvalidInputError", code: "TL_INVALID_OPTION" });
    expect(error.message).toContain("heartbeatMs");
  });

  it("streams client→server messages (raw and Schema-decoded) and session starts and ends", async () => {
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const { server, base } = yield* httpServer;
          const rt = yield* ThroughlineServer.make({ attach: server });
          const Ack = Schema.Struct({ ack: Schema.Number });
          const sessions = yield* Effect.forkChild(Stream.runHead(rt.sessions));
          const ends = yield* Effect.forkChild(Stream.runHead(rt.sessionEnds));
          const raw = yield* Effect.forkChild(Stream.runCollect(Stream.take(rt.messages, 3)));
          const acks = yield* Effect.forkChild(Stream.runCollect(Stream.take(rt.messagesOf(Ack, { onMismatch: "skip" }), 2)));
          const failing = yield* Effect.forkChild(Effect.flip(Stream.runDrain(rt.messagesOf(Ack))));
          yield* Effect.yieldNow;
          const ch = connect(`${base}/realtime`, { transports: ["websocket"] });
          yield* Effect.promise(() => once(ch, "open"));
          yield* Effect.promise(() => ch.send({ ack: 1 }));
          yield* Effect.promise(() => ch.send({ nope: true }));
          yield* Effect.promise(() => ch.send({ ack: 2 }));
          const started = yield* within(Fiber.join(sessions), "session start");
          expect(started._tag).toBe("Some");
          const got = yield* within(Fiber.join(raw), "messages");
          expect(got.map((m) => m.data)).toEqual([{ ack: 1 }, { nope: true }, { ack: 2 }]);
          expect(got[0]!.session.id).toBe(ch.session);
          const decoded = yield* within(Fiber.join(acks), "decoded messages");
          expect(decoded.map((m) => m.data.ack)).toEqual([1, 2]);
          const mismatch = yield* within(Fiber.join(failing), "mismatch");
          expect(mismatch).toMatchObject({ _tag: "SchemaMismatchError", direction: "decode" });
          const session = started._tag === "Some" ? started.value : undefined;
          expect(session?.id).toBe(ch.session);
          const closed = once<{ code: number }>(ch, "close");
          session?.close(4403, "bye");
          const ended = yield* within(Fiber.join(ends), "session end");
          expect(ended._tag === "Some" && ended.value.id).toBe(session?.id);
          expect((yield* Effect.promise(() => closed)).code).toBe(4403);
        }),
      ),
    );
  });

  it("authenticate and authorize are Effects using the application's own services", async () => {
    const AppLive = Layer.provide(
      Layer.unwrap(
        Effect.gen(function* () {
          const { server, base } = yield* httpServer;
          const layer = ThroughlineServer.layer({
            attach: server,
            authenticate: (req) => Users.use((u) => u.byToken(bearer(req))),
            authorize: (user, topic) => Effect.succeed((user as { id: string }).id === "u1" && topic !== "secret"),
          });
          return Layer.merge(layer, Layer.succeed(Base, base));
        }),
      ),
      UsersLive,
    );
    const outcome = await Effect.runPromise(
      Effect.gen(function* () {
        const base = yield* Base;
        const tryConnect = (token: string, topics: string[]) =>
          Effect.callback<string>((resume) => {
            const ch = connect(`${base}/realtime`, { token, topics, transports: ["sse"], reconnect: false });
            ch.on("open", () => { resume(Effect.succeed("open")); ch.close(); });
            ch.on("close", (info) => resume(Effect.succeed(info.error ? (info.error as ThroughlineError).code : `close ${info.code}`)));
          });
        return [yield* tryConnect("good", ["news"]), yield* tryConnect("bad", ["news"]), yield* tryConnect("good", ["secret"])];
      }).pipe(Effect.provide(AppLive)),
    );
    expect(outcome).toEqual(["open", "TL_UNAUTHORIZED", "TL_FORBIDDEN"]);
  });

  it("closing the layer's scope closes every client connection with 1001 and ends the service's streams", async () => {
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const { server, base } = yield* httpServer;
          const layerScope = yield* Scope.make();
          const context = yield* Layer.buildWithScope(ThroughlineServer.layer({ attach: server }), layerScope);
          const rt = Context.get(context, ThroughlineServer.ThroughlineServer);
          const messages = yield* Effect.forkChild(Stream.runCollect(rt.messages));
          const ends = yield* Effect.forkChild(Stream.runCollect(rt.sessionEnds));
          const codes: number[] = [];
          const channels = (["sse", "websocket", "long-poll"] as const).map((t) => {
            const ch = connect(`${base}/realtime`, { transports: [t], reconnect: false });
            ch.on("close", (info) => codes.push(info.code));
            return ch;
          });
          yield* Effect.promise(() => Promise.all(channels.map((ch) => once(ch, "open"))));
          yield* Scope.close(layerScope, Exit.void);
          yield* within(Effect.promise(() => Promise.all(channels.map((ch) => (ch.readyState === 2 ? Promise.resolve() : once(ch, "close"))))), "clients closed");
          expect(codes).toEqual([1001, 1001, 1001]);
          expect(yield* within(Fiber.join(messages), "messages stream to end")).toEqual([]);
          expect((yield* within(Fiber.join(ends), "session ends stream to end")).length).toBe(3);
          // The http server is the application's: it still serves its own routes.
          expect(yield* Effect.promise(() => fetch(`${base}/x`).then((r) => r.text()))).toBe("app");
        }),
      ),
    );
  });
});

class Base extends Context.Service<Base, string>()("test/Base") {}
