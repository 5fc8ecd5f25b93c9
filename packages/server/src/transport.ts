/**
 * The server-side transport contract. The router admits a request (route, method, security gate)
 * and hands it to the transport of its route; each transport owns the state of its connections
 * (SSE streams, WebSocket sockets, long-poll queues between polls) and tells the registry when
 * they come and go. The registry and the security gate only see `Connection`s.
 */
import type { TransportName } from "@throughline/wire";
import type { Connection } from "./connection.js";
import type { Exchange } from "./exchange.js";
import type { SessionImpl } from "./session.js";

/** An HTTP transport (SSE, long-poll): answers admitted requests of its route. */
export interface HttpTransport {
  readonly name: TransportName;
  /** The route under the base path (`ROUTES.sse`, …). */
  readonly route: string;
  /** The security gate's kind for a request: does it open a connection (needs a limit slot)? */
  opens(query: URLSearchParams): boolean;
  /** The connection of `session` this transport keeps between requests, if any (long-poll). */
  kept?(session: SessionImpl): Connection | undefined;
  /** Answers an admitted request. Throws (before answering) for 4xx/503; the router answers those. */
  serve(ex: Exchange, query: URLSearchParams): void;
}
