/**
 * Mounting the Throughline server on an Effect HTTP application (`effect/http`'s `HttpRouter`),
 * so `/realtime` is served beside the application's own routes.
 *
 * What Effect 4's HTTP modules allow: a route handler sees the request, and on the Node server
 * of `@effect/platform-node` (`NodeHttpServer`) the raw `IncomingMessage`/`ServerResponse`
 * behind it, so SSE, long-poll, client→server sends and ticket exchanges are handed to the core
 * server unchanged (the handler finishes when the raw response closes). WebSocket upgrades are
 * not reachable: `NodeHttpServer` answers upgrades with its own `ws` server and keeps the
 * socket and head to itself. When NodeHttpServer shuts down (it interrupts its handlers before
 * the layers it depends on close), the handler closes the Throughline server gracefully (1001);
 * NodeHttpServer does that after its `gracefulShutdownTimeout` (default 20 s), so set it short. A WebSocket request reaching the route is answered 426
 * TL_UPGRADE_REQUIRED, and clients fall back to SSE. For WebSocket as well, give the
 * `node:http` server that `NodeHttpServer.layer` serves to `ThroughlineServer.layer({ attach })`
 * instead (see the README).
 *
 * @since 0.1.0
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import * as Effect from "effect/Effect";
import type * as Layer from "effect/Layer";
import * as HttpRouter from "effect/http/HttpRouter";
import type * as HttpServerRequest from "effect/http/HttpServerRequest";
import * as HttpServerResponse from "effect/http/HttpServerResponse";
import { ThroughlineServer, type Service } from "./ThroughlineServer.js";

/**
 * The raw Node response of a request served by `@effect/platform-node`'s `NodeHttpServer`
 * (what its `NodeHttpServerRequest.toServerResponse` returns; read the same way so this package
 * does not depend on the platform package, which needs Node ≥ 22.19).
 */
function nodeResponse(request: HttpServerRequest.HttpServerRequest): ServerResponse | undefined {
  const res = (request as unknown as { response?: unknown }).response;
  const value = typeof res === "function" ? (res as () => unknown)() : res;
  return value !== null && typeof value === "object" && typeof (value as ServerResponse).writeHead === "function" ? (value as ServerResponse) : undefined;
}

function nodeRequest(request: HttpServerRequest.HttpServerRequest): IncomingMessage | undefined {
  const req = request.source as Partial<IncomingMessage>;
  return typeof req.on === "function" && typeof req.headers === "object" && typeof req.url === "string" ? (req as IncomingMessage) : undefined;
}

/**
 * The route handler for one server: hands the request to it and finishes when Throughline's
 * response closes. Outside a Node HTTP server (e.g. `toWebHandler`) it answers 501 saying so.
 * @since 0.1.0 @category handlers
 */
export const handler =
  (rt: Service) =>
  (request: HttpServerRequest.HttpServerRequest): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
    const req = nodeRequest(request);
    const res = nodeResponse(request);
    if (!req || !res) {
      return Effect.succeed(
        HttpServerResponse.text("Throughline: this route needs a Node HTTP server (@effect/platform-node's NodeHttpServer).", { status: 501 }),
      );
    }
    return Effect.callback<HttpServerResponse.HttpServerResponse>((resume) => {
      // Once the raw response has ended, NodeHttpServer writes nothing more for this request.
      const done = () => resume(Effect.succeed(HttpServerResponse.empty()));
      res.once("close", done);
      if (!rt.handle(req, res)) {
        res.off("close", done);
        resume(Effect.succeed(HttpServerResponse.empty({ status: 404 })));
      }
      // Interrupted while Throughline's response is still open: NodeHttpServer is shutting down
      // (a client abort closes the response first, finishing the handler). Its scope closes
      // before the layers it depends on, so close Throughline now, gracefully: every client
      // gets 1001 and resumes elsewhere, instead of a cut once the server gives up waiting.
      return Effect.suspend(() => {
        res.off("close", done);
        return res.writableEnded || res.destroyed ? Effect.void : Effect.promise(() => rt.core.close());
      });
    });
  };

/**
 * A router layer adding the Throughline routes (the server's `path` and everything under it,
 * any method). Provide `ThroughlineServer.layer(...)` (without `attach`) to it.
 * @since 0.1.0 @category layers
 */
export const routes: Layer.Layer<never, never, HttpRouter.HttpRouter | ThroughlineServer> = HttpRouter.use((router) =>
  Effect.gen(function* () {
    const rt = yield* ThroughlineServer;
    const path = (rt.path || "/") as `/${string}`;
    yield* router.add("*", path, handler(rt));
    yield* router.add("*", `${rt.path}/*` as `/${string}`, handler(rt));
  }),
);
