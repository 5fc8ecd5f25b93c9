/**
 * Credentials for the WebSocket transport. A browser cannot put `Authorization` on a WebSocket,
 * and a token in a URL ends up in access logs, so with credentials the client first trades them
 * (`POST P/ticket`, token in the header) for a short-lived, single-use ticket and puts only that
 * in the WebSocket URL. One path everywhere: Node's `ws` could send the header, but then the two
 * runtimes would be tested differently.
 */
import { DEV, MARKER_HEADER, MARKER_VALUE, ROUTES, ThroughlineError, buildUrl } from "@throughline/wire";
import { discard, failed, refusal } from "./http.js";
import { abnormal, type CloseInfo, type TransportContext } from "./transport.js";

/** A ticket (a string), none (`undefined`), or why there is none (close info, an object). */
export type TicketResult = string | undefined | CloseInfo;

/**
 * A ticket for the next WebSocket, or `undefined` when there are no credentials to trade (or the
 * server has no `authenticate`, answering the ticket route with a marked 404). A marked 401/403
 * comes back as a refusal, so the channel refreshes the token once and then stops. Rejects when
 * the request (or the token function) fails.
 */
export async function fetchTicket(ctx: TransportContext): Promise<TicketResult> {
  const headers = await ctx.headers();
  if (!headers.authorization) return undefined;
  // A failed request rejects (withTicket reports it).
  const res = await ctx.fetch(buildUrl(ctx.url, ROUTES.ticket), { method: "POST", headers, cache: "no-store" });
  if (res.status === 404 && res.headers.get(MARKER_HEADER) === MARKER_VALUE) {
    discard(res);
    return undefined;
  }
  if (res.status !== 200) return refusal(res, "ticket");
  let ticket: unknown;
  try {
    ticket = ((await res.json()) as { ticket?: unknown }).ticket;
  } catch {
    // Not JSON: no ticket (reported below).
  }
  if (typeof ticket !== "string" || ticket === "") {
    return abnormal(new ThroughlineError("TL_BAD_FRAME", DEV ? "the ticket answer has no ticket (a proxy's answer?)." : "ticket"));
  }
  return ticket;
}

/**
 * Runs `go` with a ticket (or none), or `fail` with why there is none; nothing once `isClosed()`.
 * Always asynchronous, so a transport's `open()` never calls its handlers synchronously.
 */
export function withTicket(ctx: TransportContext, isClosed: () => boolean, fail: (info: CloseInfo) => void, go: (ticket: string | undefined) => void): void {
  fetchTicket(ctx).then(
    (r) => {
      if (isClosed()) return;
      if (typeof r === "object") fail(r);
      else go(r);
    },
    (cause: unknown) => {
      if (!isClosed()) fail(failed("ticket", null, cause));
    },
  );
}
