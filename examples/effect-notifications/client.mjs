/**
 * Throughline × Effect demo, Node client: the notifications as a `Stream`, decoded with the
 * topic's `Schema`, reconnecting on a `Schedule`, failures recovered by tag.
 *
 *   node examples/effect-notifications/client.mjs [url]      # default http://127.0.0.1:3001/realtime
 *   COUNT=4 node examples/effect-notifications/client.mjs URL # stop after 4 notifications
 */
import * as Console from "effect/Console";
import * as Effect from "effect/Effect";
import * as Schedule from "effect/Schedule";
import * as Stream from "effect/Stream";
import * as SubscriptionRef from "effect/SubscriptionRef";
import { ThroughlineClient } from "@throughline/effect";
import { Notifications } from "./topics.mjs";

const url = process.argv[2] ?? "http://127.0.0.1:3001/realtime";
const COUNT = process.env.COUNT ? Number(process.env.COUNT) : Infinity;

const program = Effect.gen(function* () {
  const ch = yield* ThroughlineClient.connect(url, {
    topics: [Notifications.name],
    // Lost connections are retried every second, at most 30 times in a row, then the stream fails.
    reconnect: Schedule.max([Schedule.spaced("1 second"), Schedule.recurs(30)]),
  });
  yield* Effect.forkScoped(Stream.runForEach(SubscriptionRef.changes(ch.transport), (t) => (t ? Console.log(`transport: ${t}`) : Effect.void)));
  let seen = 0;
  yield* ch.topic(Notifications).pipe(
    Stream.take(COUNT),
    Stream.runForEach((msg) =>
      Effect.gen(function* () {
        yield* Console.log(`[${msg.event}] ${msg.data.title}: ${msg.data.body}`);
        // Say hello once: the server republishes it to everyone as event "reply".
        if (++seen === 1) yield* ch.send({ text: "hello from an Effect client" });
      }),
    ),
  );
});

Effect.runPromise(
  Effect.scoped(program).pipe(
    Effect.catchTags({
      SchemaMismatchError: (e) => Console.error(`unexpected data: ${e.message}`),
      AuthError: (e) => Console.error(`not allowed in: ${e.message}`),
      ConnectionLostError: (e) => Console.error(`gave up: ${e.message}`),
    }),
  ),
).then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
