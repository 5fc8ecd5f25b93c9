/**
 * One base path, sub-routes per transport. Query parameter and header names shared by server
 * and client live here so the two can never drift apart.
 */

export const ROUTES = Object.freeze({
  sse: "/sse",
  websocket: "/ws",
  poll: "/poll",
  send: "/send",
  ticket: "/ticket",
} as const);

export const QUERY = /* @__PURE__ */ Object.freeze({
  topics: "topics",
  session: "session",
  /** Resume cursor (WebSocket and long-poll; SSE accepts it where `Last-Event-ID` cannot be set). */
  cursor: "cursor",
  /** The query alternative to SSE's `Last-Event-ID` header (WHATWG EventSource cannot set headers). */
  lastEventId: "lastEventId",
  ticket: "ticket",
  /**
   * Long-poll: `connect=1` marks the first poll of a new connection. With `session`, it joins
   * that session with a fresh connection (hello at once) instead of continuing the old one, so a
   * long-poll reconnect or switch keeps its session.
   */
  connect: "connect",
  /**
   * `propose=1`: the `session` id is the client's own proposal for a new session (issue #10, one
   * session from the first request of a round). The server creates the session under that id if
   * it does not exist, bound to the authenticated user; every later attempt of the round names
   * the same id and joins it. A proposal that exists but belongs to another user is answered as
   * unknown (404 / close 4404). Proposals must carry at least `MIN_PROPOSED_SESSION_CHARS`.
   */
  propose: "propose",
} as const);

/** A proposed session id must be at least this long: 22 base64url characters carry 128 random bits. */
export const MIN_PROPOSED_SESSION_CHARS = 22;

/**
 * Every response the Throughline server itself produces carries this header, so the client can
 * tell the application's 401/403 from a proxy's error page.
 */
export const MARKER_HEADER = "x-throughline";
export const MARKER_VALUE = "1";
export const LAST_EVENT_ID_HEADER = "last-event-id";

/**
 * Joins a base URL (absolute, with its own path and query kept) with a sub-route and parameters.
 * Undefined and null parameters are left out (the client's live session and cursor are null
 * while there is none); empty ones are kept.
 */
/** A query parameter's name: one of `QUERY` (so a client can spell them literally and still be checked). */
export type QueryName = (typeof QUERY)[keyof typeof QUERY];

export function buildUrl(base: string, route: string, params: Partial<Record<QueryName, string | null | undefined>> = {}): string {
  const url = new URL(base);
  url.pathname = url.pathname.replace(/\/+$/, "") + route;
  for (const [k, v] of Object.entries(params)) if (v != null) url.searchParams.set(k, v);
  return url.toString();
}

/** `http:` → `ws:`, `https:` → `wss:`. */
export function toWebSocketUrl(httpUrl: string): string {
  return httpUrl.replace(/^http(s?):/i, "ws$1:");
}
