/**
 * The runtime-neutral request/response the router and the transports work on. Each runtime
 * adapter (`adapters/node-http`, `adapters/http2`, `adapters/fetch`) turns its own request and
 * response into an `Exchange`, so routing, security, SSE and long-poll are written once.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { PeerSocket } from "./transports/peer.js";

/**
 * What `authenticate`/`authorize` receive: the runtime's own request. On node:http an
 * `IncomingMessage`, on node:http2 an `Http2ServerRequest`, through the Fetch adapter a view with
 * the same `method`/`url`/`headers` shape plus the original `request`, so one callback reading
 * `req.headers.authorization` works everywhere.
 */
export interface ServerRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  /** Lower-case header names, as node:http gives them. */
  readonly headers: IncomingHttpHeaders;
  /** The Fetch API request, when served through `adapters/fetch`. */
  readonly request?: Request;
}

/** The parts of a request every check reads (CORS, limits, authentication). */
export interface Inbound {
  readonly method: string;
  /** Path and query as sent (not decoded). */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The peer's address, when the runtime knows it. */
  readonly remoteAddress: string | undefined;
  /** Handed to the application's callbacks. */
  readonly native: ServerRequest;
}

/** Answer headers: names lower-case. */
export type AnswerHeaders = Readonly<Record<string, string | number>>;

/** One request and its answer. */
export interface Exchange extends Inbound {
  /** True once the client went away (or the answer finished). */
  readonly gone: boolean;
  /** Called once when the client goes away before (or while) being answered. */
  onGone(fn: () => void): void;
  /** True once an answer (or a stream) started. */
  readonly answered: boolean;
  /** Headers added to whatever answer follows (CORS). */
  addHeaders(headers: AnswerHeaders): void;
  /**
   * Reads the body as UTF-8, bounded.
   * @throws ThroughlineError TL_PAYLOAD_TOO_LARGE beyond `limit`, TL_BAD_MESSAGE when a framework
   *   already consumed it without leaving it usable
   */
  readBody(limit: number): Promise<string>;
  /**
   * Answers in one go (ignored once answered). `closeConnection`: an HTTP/1.1 connection is not
   * kept alive afterwards (an unread body); meaningless elsewhere and dropped there.
   */
  respond(status: number, headers: AnswerHeaders, body?: string, closeConnection?: boolean): void;
  /** Starts a streaming answer (SSE). Headers go out at once. */
  stream(status: number, headers: AnswerHeaders): StreamSink;
  /** Ends the exchange without an answer (a socket-level abort). */
  abort(): void;
  /**
   * Where the runtime can upgrade this request to a WebSocket (Bun's `server.upgrade`, Deno's
   * `Deno.upgradeWebSocket`): answers the request with the upgrade and resolves with the socket once
   * open. `undefined` when it cannot (then `GET …/ws` answers 426).
   */
  upgradeWebSocket?(): Promise<PeerSocket> | undefined;
}

/** A streaming response body. */
export interface StreamSink {
  /**
   * Queues a chunk. `flushed` (optional) is called once the chunk left the process' buffer, so
   * the caller can count writes stuck behind a slow reader (see backlog.ts).
   */
  write(chunk: string | Uint8Array, flushed?: () => void): void;
  /** Bytes queued but not yet handed to the network. */
  readonly buffered: number;
  /** True once ended or closed. */
  readonly ended: boolean;
  /** Writes a last chunk and ends; an end that cannot flush is dropped after a bounded linger. */
  end(last?: string | Uint8Array): void;
  /**
   * `owner.gone()` is called when the stream closes (either side), possibly more than once. An
   * owner rather than a callback: node:http can then share one listener for every stream
   * instead of a closure per idle connection.
   */
  onClose(owner: StreamOwner): void;
}

/** What a stream's close is reported to (the transport's connection). */
export interface StreamOwner {
  gone(): unknown;
}

/** Connection-specific headers HTTP/2 forbids (RFC 9113 §8.2.2) and Fetch runtimes manage. */
export const HOP_BY_HOP = new Set(["connection", "keep-alive", "upgrade", "transfer-encoding", "proxy-connection"]);

/** A request URL split into pathname (not decoded: routes match exactly) and query. */
export interface RequestTarget {
  readonly pathname: string;
  readonly query: URLSearchParams;
}

export function splitUrl(url: string): RequestTarget {
  const q = url.indexOf("?");
  const h = url.indexOf("#");
  const end = h === -1 ? url.length : h;
  if (q === -1 || q > end) return { pathname: url.slice(0, end), query: new URLSearchParams() };
  return { pathname: url.slice(0, q), query: new URLSearchParams(url.slice(q + 1, end)) };
}
