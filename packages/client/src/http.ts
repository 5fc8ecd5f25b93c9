/**
 * Helpers shared by the fetch-based transports (SSE and long-poll): reading the server's refusals
 * and posting client→server frames.
 */
import {
  DEV,
  MARKER_HEADER,
  MARKER_VALUE,
  ROUTES,
  ThroughlineError,
  buildUrl,
  type ClientFrame,
  type ErrorCode,
} from "@throughline/wire";
import { abnormal, connectionLost, type CloseInfo, type TransportContext } from "./transport.js";

/** Frees a response's connection without caring whether that works. */
export function discard(res: Response): void {
  if (res.body) res.body.cancel().catch(() => {});
}

/**
 * Turns a non-200 answer into close info. Only answers carrying the marker header are the
 * server's own: an intermediary's 401/403/404 page must not end the channel, so it becomes
 * TL_HTTP_STATUS (code 1006), and the next transport gets its chance.
 */
export async function refusal(res: Response, what: string): Promise<CloseInfo> {
  const status = res.status;
  if (res.headers.get(MARKER_HEADER) !== MARKER_VALUE) {
    discard(res);
    // Code 1006 with the error's code as the reason, as every close without a server's code.
    return abnormal(new ThroughlineError("TL_HTTP_STATUS", DEV ? `${what}: HTTP ${status} not from the Throughline server (a proxy or firewall?).` : `${what} ${status}`, { status }));
  }
  let code: ErrorCode = "TL_HTTP_STATUS";
  let detail = "";
  try {
    // Bounded: an error body is small; a huge one is not the server's.
    const e = (JSON.parse((await res.text()).slice(0, 4096)) as { error?: { code?: unknown; message?: unknown } }).error;
    if (e) {
      // Any well-formed code, not only those this client knows: a newer server's new code
      // reaches the app as it is (and the client ships no list of codes).
      if (typeof e.code === "string" && /^TL_[A-Z_]{1,40}$/.test(e.code)) code = e.code as ErrorCode;
      if (typeof e.message === "string") detail = `: ${e.message.replace(/^Throughline: /, "").slice(0, 200)}`;
    }
  } catch {
    // Keep the generic code: the status still says enough.
  }
  // The close code of the server's refusal: 4000 + the status where the close-code table has one
  // (400, 401, 403, 429, and 404 for an expired session), 1009 too large, 1001 going away.
  const closeCode = [400, 401, 403, 429].includes(status) || (status === 404 && code === "TL_UNKNOWN_SESSION") ? 4000 + status : status === 413 ? 1009 : status === 503 ? 1001 : 1006;
  // `fatal`: the server itself rejected the credentials: retrying with them would be a request storm.
  return {
    code: closeCode,
    reason: code,
    error: new ThroughlineError(code, DEV ? `the server refused the ${what} request with HTTP ${status} ${code}${detail}` : `${what} ${status}${detail}`, { status }),
    fatal: status === 401 || status === 403,
  };
}

/**
 * Close info for a request that failed (refused, reset, DNS, CORS) or a stream lost mid-answer.
 * `session`: the one the link's hello named (the server's ids are never empty), `null` before
 * any hello: then the connection failed rather than was lost.
 */
export function failed(what: string, session: string | null, cause: unknown): CloseInfo {
  // Our own errors (e.g. the token function failed) already say what happened.
  if (cause instanceof ThroughlineError) return abnormal(cause);
  return session
    ? connectionLost(DEV ? `the ${what} connection was lost.` : what, cause)
    : abnormal(new ThroughlineError("TL_CONNECT_FAILED", DEV ? `the ${what} request failed (network error).` : what, { cause }));
}

/** JSON of client frames; non-serializable data (BigInt, cycles) is the caller's error. */
export function encodeClientFrames(frames: readonly ClientFrame[]): string {
  try {
    return JSON.stringify(frames.length === 1 ? frames[0] : frames);
  } catch (cause) {
    throw new ThroughlineError("TL_BAD_DATA", DEV ? "the data to send cannot be serialized as JSON." : "", { cause });
  }
}

/** `close(code)` of a fetch transport: a best-effort goodbye, so the server ends the session. */
export function goodbye(ctx: TransportContext, session: string | null, code: number | undefined): void {
  if (code !== undefined && session) postFrames(ctx, session, [{ type: "close", code }], true).catch(() => {});
}

/**
 * `POST P/send?session=S`. `text/plain` keeps it a CORS simple request where no other header
 * forbids it (the server accepts any content type).
 */
export async function postFrames(ctx: TransportContext, session: string | null, frames: readonly ClientFrame[], keepalive = false): Promise<void> {
  if (!session) throw new ThroughlineError("TL_SEND_FAILED", DEV ? "cannot send before the server named the session." : "session");
  const body = encodeClientFrames(frames);
  let res: Response;
  try {
    res = await ctx.fetch(buildUrl(ctx.url, ROUTES.send, { session }), {
      method: "POST",
      headers: { ...(await ctx.headers()), "content-type": "text/plain;charset=UTF-8" },
      body,
      keepalive,
    });
  } catch (cause) {
    throw new ThroughlineError("TL_SEND_FAILED", DEV ? "the send request failed (network error)." : "", { cause });
  }
  discard(res);
  if (!res.ok) {
    throw new ThroughlineError("TL_SEND_FAILED", DEV ? `the send request got HTTP ${res.status}.` : `${res.status}`, { status: res.status });
  }
}
