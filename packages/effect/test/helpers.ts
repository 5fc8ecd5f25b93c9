/** Shared test helpers: a user-owned node:http server on loopback, and bounded Effect waits. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as Effect from "effect/Effect";
import * as Scope from "effect/Scope";

/** A plain http server on 127.0.0.1:0 answering "app" to everything not mounted on it, closed with the scope. */
export const httpServer: Effect.Effect<{ server: Server; port: number; base: string }, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(
    () =>
      new Promise<{ server: Server; port: number; base: string }>((resolve) => {
        const server = createServer((_req, res) => res.end("app"));
        server.listen(0, "127.0.0.1", () => {
          const port = (server.address() as AddressInfo).port;
          resolve({ server, port, base: `http://127.0.0.1:${port}` });
        });
      }),
  ),
  ({ server }) =>
    Effect.promise(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
);

/** Fails the test (with `what`) instead of hanging when `effect` takes longer than a generous real-time bound. */
export const within = <A, E, R>(effect: Effect.Effect<A, E, R>, what: string, ms = 15_000): Effect.Effect<A, E | Error, R> =>
  Effect.timeoutOrElse(effect, { duration: ms, orElse: () => Effect.fail(new Error(`timed out after ${ms} ms waiting for ${what}`)) });
