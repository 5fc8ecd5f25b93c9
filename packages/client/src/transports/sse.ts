/**
 * SSE over fetch streaming (not EventSource: it cannot send headers, report statuses or tell a
 * proxy's error page from the server's). Frames are decoded by wire's SSE frame decoder.
 */
import {
  DEV,
  LAST_EVENT_ID_HEADER,
  ROUTES,
  ThroughlineError,
  buildUrl,
  createSseFrameReader,
  type ServerFrame,
} from "@throughline/wire";
import { discard, failed, goodbye, postFrames, refusal } from "../http.js";
import { abnormal, connectionLost, type CloseInfo, type ProofRule, type Transport, type TransportFactory } from "../transport.js";

/**
 * SSE proof: the hello and, `probeDelayMs` later, the probe must arrive at least this far apart
 * (or half their sending gap, if smaller). A held pair released together arrives within a few ms;
 * network jitter alone rarely shrinks a 100 ms gap below this.
 */
export const SSE_MIN_GAP_MS = 25;

/** The SSE transport: `GET P/sse`, then client→server frames by `POST P/send`. */
export const sseTransport: TransportFactory = (ctx, h) => {
  const abort = new AbortController();
  let closed = false;
  let session: string | null = null;

  const finish = (info: CloseInfo) => {
    if (closed) return;
    closed = true;
    abort.abort();
    h.close(info);
  };

  const run = async () => {
    const headers: Record<string, string> = { ...(await ctx.headers()), accept: "text/event-stream" };
    const cursor = ctx.cursor;
    if (cursor) headers[LAST_EVENT_ID_HEADER] = cursor;
    if (closed) return;
    // A failed request or read rejects run(), which reports it (open()).
    const res = await ctx.fetch(buildUrl(ctx.url, ROUTES.sse, { topics: ctx.topics.join(), session: ctx.session, propose: ctx.propose ? "1" : undefined }), {
      headers,
      signal: abort.signal,
      cache: "no-store",
    });
    if (closed) return discard(res);
    if (res.status !== 200) return finish(await refusal(res, "SSE"));
    const type = res.headers.get("content-type") ?? "";
    if (!/^text\/event-stream\b/i.test(type) || !res.body) {
      discard(res);
      return finish(abnormal(new ThroughlineError("TL_NOT_EVENT_STREAM", DEV ? `SSE answered ${JSON.stringify(type.slice(0, 60))}, not text/event-stream (a proxy rewriting it?).` : type.slice(0, 60))));
    }
    h.opened();
    const decoder = createSseFrameReader(
      (f: ServerFrame) => {
        if (closed) return;
        if (f.type === "hello") session = f.session;
        h.frame(f);
      },
      // A block that is not a frame means something rewrote the stream: this transport is unusable.
      (error) => finish(abnormal(error)),
    );
    const reader = res.body.getReader();
    for (;;) {
      const chunk = await reader.read();
      if (closed) return;
      if (chunk.done) return finish(connectionLost(DEV ? "the SSE stream ended without a close frame." : "SSE"));
      h.chunk();
      decoder.feedBytes(chunk.value);
    }
  };

  return {
    open() {
      // Refused, reset, DNS, CORS (no session yet: a failed connect), or lost mid-stream.
      run().catch((cause: unknown) => finish(failed("SSE", session, cause)));
    },
    send: (frames) => postFrames(ctx, session, frames),
    close(code) {
      if (closed) return;
      closed = true;
      abort.abort();
      goodbye(ctx, session, code);
    },
  };
};

/**
 * SSE proof: the hello and the probe in different network deliveries, and apart in time as they
 * were sent: a proxy that held the hello until the probe came (antivirus scanners) releases both
 * at once, even in two writes. The bound tolerates jitter.
 */
export const sseProof: ProofRule = {
  hello: () => undefined,
  probe(f, hello, localGap, helloChunk, chunk) {
    const serverGap = f.time - hello.time;
    if (chunk > helloChunk && localGap >= Math.min(serverGap / 2, SSE_MIN_GAP_MS)) {
      return DEV ? `hello and probe in reads ${helloChunk} and ${chunk}, ${Math.round(localGap)} ms apart (sent ${serverGap} ms apart)` : `reads ${helloChunk} ${chunk}`;
    }
    // The development sentence is built inside the DEV arm only: production builds keep nothing of it.
    return new ThroughlineError(
      "TL_CONNECT_TIMEOUT",
      DEV
        ? `sse: hello and probe arrived ${chunk > helloChunk ? `${Math.round(localGap)} ms apart although sent ${serverGap} ms apart` : "in one delivery"} (held by a proxy).`
        : "sse: held",
    );
  },
};

/** SSE as a transport value (`connect(url, { transports: [sse] })` of `@throughline/client/core`). */
export const sse: Transport = /* @__PURE__ */ Object.freeze<Transport>({ name: "sse", create: sseTransport, proof: sseProof, stream: true });
