/**
 * Throughline × Effect demo, server: the notifications demo written with Layers.
 *
 *   HttpServerLive   a node:http server, listening while the layer lives
 *   RealtimeLive     ThroughlineServer.layer, mounted on it (closing it: 1001 to every client)
 *   NotifierLive     publishes a notification every INTERVAL_MS (a Schedule) and republishes
 *                    client replies (a Stream of Schema-decoded client→server messages)
 *
 *   npm run example:effect                       # builds, then serves http://127.0.0.1:3001/realtime
 *   PORT=0 INTERVAL_MS=200 node examples/effect-notifications/server.mjs   # tests
 *
 * Ctrl-C interrupts the program: the layers close in reverse order, clients get 1001.
 */
import { createServer } from "node:http";
import * as Console from "effect/Console";
import * as Context from "effect/Context";
import * as Effect from "effect/Effect";
import * as Fiber from "effect/Fiber";
import * as Layer from "effect/Layer";
import * as Schedule from "effect/Schedule";
import * as Stream from "effect/Stream";
import { ThroughlineServer } from "@throughline/effect/server";
import { Notifications, Reply } from "./topics.mjs";

const PORT = Number(process.env.PORT ?? 3001);
const HOST = process.env.HOST || "127.0.0.1";
const INTERVAL_MS = Number(process.env.INTERVAL_MS ?? 2_000);

const SAMPLES = [
  { level: "info", title: "Deploy finished", body: "api@4f2c1e is live in eu-west-1 (42 s)." },
  { level: "warning", title: "Disk almost full", body: "db-2: /var/lib/postgres is 91 % full." },
  { level: "info", title: "Backup completed", body: "Nightly snapshot: 12.4 GB in 3 min 10 s." },
  { level: "warning", title: "Slow responses", body: "p95 latency of /search is 1.8 s (usual: 240 ms)." },
];

/** The application's node:http server (it also serves its own routes). */
class HttpServer extends Context.Service()("demo/HttpServer") {}

const HttpServerLive = Layer.effect(
  HttpServer,
  Effect.acquireRelease(
    Effect.callback((resume) => {
      const server = createServer((_req, res) => res.writeHead(404).end("Not found\n"));
      server.once("error", (err) => resume(Effect.die(err)));
      server.listen(PORT, HOST, () => resume(Effect.succeed({ server, port: server.address().port })));
    }),
    ({ server }) =>
      Effect.callback((resume) => {
        server.close(() => resume(Effect.void));
        server.closeAllConnections();
      }),
  ),
);

const RealtimeLive = Layer.unwrap(
  Effect.gen(function* () {
    const { server } = yield* HttpServer;
    return ThroughlineServer.layer({ attach: server, topics: [Notifications] });
  }),
);

const NotifierLive = Layer.effectDiscard(
  Effect.gen(function* () {
    const rt = yield* ThroughlineServer.ThroughlineServer;
    let n = 0;
    const notify = Effect.suspend(() => {
      const sample = SAMPLES[n++ % SAMPLES.length];
      return rt.publish(Notifications, { ...sample, time: new Date().toISOString() }, { event: sample.level });
    });
    yield* Effect.forkScoped(Effect.repeat(notify, Schedule.spaced(INTERVAL_MS)));
    // Client data is untrusted: only replies matching the schema are republished.
    const replies = rt.messagesOf(Reply, { onMismatch: "skip" }).pipe(
      Stream.runForEach(({ data }) =>
        rt.publish(Notifications, { title: "Reply", body: data.text, level: "reply", time: new Date().toISOString() }, { event: "reply" }),
      ),
    );
    yield* Effect.forkScoped(replies);
    const { port } = yield* HttpServer;
    yield* Console.log(`Throughline Effect demo on http://${HOST}:${port}${rt.path}`);
  }),
);

const Main = NotifierLive.pipe(Layer.provideMerge(RealtimeLive), Layer.provide(HttpServerLive));

const fiber = Effect.runFork(Layer.launch(Main));
let closing = false;
const shutdown = (signal) => {
  if (closing) process.exit(1);
  closing = true;
  setTimeout(() => process.exit(1), 5_000).unref();
  Effect.runPromise(Fiber.interrupt(fiber)).then(() => console.log(`closed (${signal})`));
};
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGTERM", () => shutdown("SIGTERM"));
