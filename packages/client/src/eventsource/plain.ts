/**
 * A spec-exact SSE client for any server (WHATWG HTML §9.2.3 "processing model"), over fetch
 * streaming so it can send headers (Authorization), see statuses and use an injected clock:
 *
 * - `Accept: text/event-stream`, `Cache-Control` left to `cache: "no-store"`, `Last-Event-ID`
 *   on every request once an id was seen (it persists across events and reconnects);
 * - a network error or the end of the stream: `readyState` CONNECTING, `error`, wait the
 *   reconnection time (`retry:` honoured, clamped to [minRetryMs, maxRetryMs]), fetch again;
 * - any status but 200 (204 included: "stop reconnecting") or a Content-Type whose essence is not
 *   `text/event-stream`: fail the connection — CLOSED, `error`, never reconnect.
 */
import { DEV, LAST_EVENT_ID_HEADER, MARKER_HEADER, MARKER_VALUE, ROUTES, ThroughlineError, createSseParser, parseTopics } from "@throughline/wire";
import { discard } from "../http.js";
import type { ResolvedEventSourceInit } from "./options.js";
import type { SourceBackend, SourceSink } from "./sink.js";

/** §9.2.3: the MIME type's essence must be exactly `text/event-stream` (parameters allowed). */
export function isEventStream(contentType: string | null): boolean {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase() === "text/event-stream";
}

/** Where a Throughline server found by auto mode is connected: its base path and topics. */
function throughlineBase(url: string): { url: string; topics: string[] | undefined } {
  const u = new URL(url);
  const topics = u.searchParams.get("topics");
  u.searchParams.delete("topics");
  u.searchParams.delete("lastEventId");
  if (u.pathname.endsWith(ROUTES.sse)) u.pathname = u.pathname.slice(0, -ROUTES.sse.length);
  return { url: u.toString(), topics: topics === null ? undefined : [...parseTopics(topics)] };
}

export function plainSource(url: string, o: ResolvedEventSourceInit, sink: SourceSink, detect: boolean): SourceBackend {
  let closed = false;
  let abort: AbortController | undefined;
  let timer: unknown;
  let lastEventId = o.lastEventId;
  let retryMs = o.retryMs;
  let origin = new URL(url).origin;
  const parser = createSseParser({
    onEvent: (e) => {
      if (!closed) sink.message(e.event ?? "message", e.data, lastEventId, origin);
    },
    onRetry: (ms) => {
      retryMs = Math.min(o.maxRetryMs, Math.max(o.minRetryMs, ms));
    },
    onLastEventId: (id) => {
      lastEventId = id;
    },
  });

  /** §9.2.3 "reestablish the connection". */
  const reestablish = (error: ThroughlineError) => {
    if (closed) return;
    sink.reconnecting(error);
    // The error listener may have called close().
    if (!closed) timer = o.clock.setTimeout(start, retryMs);
  };

  const fail = (error: ThroughlineError) => {
    if (closed) return;
    closed = true;
    sink.fail(error);
  };

  const run = async (): Promise<void> => {
    if (closed) return;
    abort = new AbortController();
    const headers: Record<string, string> = { ...(await o.headers()), accept: "text/event-stream" };
    if (lastEventId) headers[LAST_EVENT_ID_HEADER] = lastEventId;
    if (closed) return;
    let res: Response;
    try {
      res = await o.fetch(url, { headers, cache: "no-store", signal: abort.signal });
    } catch (cause) {
      return reestablish(new ThroughlineError("TL_CONNECT_FAILED", DEV ? `the request to ${url} failed; reconnecting in ${retryMs} ms.` : url, { cause }));
    }
    if (closed) return discard(res);
    if (detect && res.headers.get(MARKER_HEADER) === MARKER_VALUE) {
      discard(res);
      const base = throughlineBase(url);
      closed = true;
      return sink.handover(base.url, base.topics);
    }
    if (res.status !== 200) {
      discard(res);
      return fail(new ThroughlineError("TL_HTTP_STATUS", DEV ? `${url} answered ${res.status}, not 200: the event stream is not reconnected (WHATWG: a 204 or an error status ends it).` : `${url} ${res.status}`, { status: res.status }));
    }
    const type = res.headers.get("content-type");
    if (!isEventStream(type) || !res.body) {
      discard(res);
      return fail(new ThroughlineError("TL_NOT_EVENT_STREAM", DEV ? `${url} answered ${JSON.stringify((type ?? "no Content-Type").slice(0, 60))}, not text/event-stream: not reconnecting.` : url));
    }
    if (res.url) origin = new URL(res.url).origin; // after redirects, the final URL's origin
    parser.reset();
    sink.open();
    const reader = res.body.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (cause) {
        if (closed) return;
        return reestablish(new ThroughlineError("TL_CONNECTION_LOST", DEV ? `the event stream from ${url} broke; reconnecting in ${retryMs} ms.` : url, { cause }));
      }
      if (closed) return;
      if (chunk.done) return reestablish(new ThroughlineError("TL_CONNECTION_LOST", DEV ? `the event stream from ${url} ended; reconnecting in ${retryMs} ms.` : url));
      parser.feedBytes(chunk.value);
    }
  };

  /** Every attempt; a throwing `headers` function fails the source instead of rejecting unhandled. */
  function start(): void {
    run().catch((cause: unknown) => fail(new ThroughlineError("TL_CONNECT_FAILED", DEV ? `the request to ${url} could not be made (a headers or token function threw?).` : url, { cause })));
  }

  queueMicrotask(start);

  return {
    close() {
      if (closed) return;
      closed = true;
      abort?.abort();
      if (timer !== undefined) o.clock.clearTimeout(timer);
    },
  };
}
