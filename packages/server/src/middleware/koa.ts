/**
 * Koa: requests under the path are answered by Throughline on the raw node objects
 * (`ctx.respond = false` keeps Koa from writing after us); the rest goes down the chain.
 * Mount it before body parsers. WebSocket: `server.on("upgrade", rt.handleUpgrade)`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ThroughlineServer } from "../server.js";

/** The part of a Koa context this middleware uses. */
export interface KoaContextLike {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  respond?: boolean;
}

/** `app.use(koaMiddleware(rt))`. */
export function koaMiddleware(rt: ThroughlineServer): (ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<void> {
  return async (ctx, next) => {
    if (rt.handle(ctx.req, ctx.res)) {
      ctx.respond = false;
      return;
    }
    await next();
  };
}
