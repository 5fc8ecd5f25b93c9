/**
 * Hono (and any framework built on Fetch `Request`/`Response`): requests under the path are
 * answered by `rt.fetch`, the rest go to `next()`. The runtime's environment (`c.env`: Bun's
 * server, `@hono/node-server`'s node objects) is passed on for the client address.
 * `app.use(honoMiddleware(rt))`.
 */
import { fetchMatches, type FetchInfo } from "../adapters/fetch.js";
import { coreOf, type ThroughlineServer } from "../server.js";

/** The parts of a Hono context the middleware uses. */
export interface HonoContextLike {
  readonly req: { readonly raw: Request };
  readonly env?: unknown;
}

export function honoMiddleware(rt: ThroughlineServer): (c: HonoContextLike, next: () => Promise<void>) => Promise<Response | void> {
  const { router } = coreOf(rt);
  return async (c, next) => {
    if (!fetchMatches(router, c.req.raw)) return next();
    return rt.fetch(c.req.raw, (c.env ?? undefined) as FetchInfo | undefined);
  };
}
