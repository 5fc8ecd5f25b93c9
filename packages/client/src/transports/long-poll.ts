/**
 * Long-polling: `GET P/poll` in a loop, each answer a JSON array of frames. The cursor of every
 * poll is the channel's (the last message delivered), which is also the server's acknowledgement:
 * it drops nothing the next poll has not acknowledged.
 *
 * The first poll of a connection carries `connect=1` with the channel's session:
 * the server then starts a new connection in that session and answers `[hello, …replay]` at once
 * (a poll naming a session without the flag is a continuation and may be held without a hello),
 * so reconnects and transport switches keep the session.
 */
import { DEV, ROUTES, buildUrl, decodePollBatch } from "@throughline/wire";
import { failed, goodbye, postFrames, refusal } from "../http.js";
import { connectionLost, type CloseInfo, type Transport, type TransportFactory } from "../transport.js";

/** The long-poll transport: `GET P/poll` repeatedly, client→server frames by `POST P/send`. */
export const longPollTransport: TransportFactory = (ctx, h) => {
  let closed = false;
  // One controller for every poll of the link: a poll that timed out ends the link anyway.
  const abort = new AbortController();
  /** The session the hello named: `null` until the first poll answered. */
  let session: string | null = null;
  let holdMs = 0;

  const finish = (info: CloseInfo) => {
    if (closed) return;
    closed = true;
    abort.abort();
    h.close(info);
  };

  const poll = async (): Promise<void> => {
    const headers = await ctx.headers();
    if (closed) return;
    const first = session === null;
    const url = buildUrl(ctx.url, ROUTES.poll, {
      topics: ctx.topics.join(),
      // The first poll: the channel's session (or proposal); then the one its hello named.
      session: session ?? ctx.session,
      cursor: ctx.cursor,
      connect: first ? "1" : undefined,
      propose: first && ctx.propose ? "1" : undefined,
    });
    // A held poll answers within holdMs; past that plus a margin the connection is dead.
    const timer = ctx.clock.setTimeout(() => finish(connectionLost(DEV ? "a long-poll got no answer in time." : "long-poll")), holdMs + ctx.connectTimeoutMs);
    let text: string;
    try {
      const res = await ctx.fetch(url, { headers, signal: abort.signal, cache: "no-store" });
      if (closed) return;
      if (res.status !== 200) return finish(await refusal(res, "long-poll"));
      text = await res.text();
      // A failed request rejects the loop, which reports it (open()).
    } finally {
      ctx.clock.clearTimeout(timer);
    }
    if (closed) return;
    // A bad batch throws TL_BAD_FRAME, which the loop's handler reports as it is (failed()).
    const frames = decodePollBatch(text);
    h.opened();
    h.chunk();
    for (const f of frames) {
      if (closed) return;
      if (f.type === "hello") {
        session = f.session;
        holdMs = f.holdMs ?? 0;
      }
      h.frame(f);
    }
  };

  const loop = async () => {
    while (!closed) await poll();
  };

  return {
    open() {
      // A failed request or token function: refused, reset, DNS, CORS, or lost mid-answer.
      loop().catch((cause: unknown) => finish(failed("long-poll", session, cause)));
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

/** Long-poll as a transport value. Proof: the first poll returns (with the hello). Polled, not watched. */
export const longPoll: Transport = /* @__PURE__ */ Object.freeze<Transport>({
  name: "long-poll",
  create: longPollTransport,
  proof: { hello: () => (DEV ? "first poll returned" : "poll"), probe: () => undefined },
  stream: false,
});
