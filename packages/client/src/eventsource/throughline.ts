/**
 * The facade over `connect()` against a Throughline server: negotiation, every transport, resume
 * by cursor. Only the public Channel API is used.
 */
import { DEV, ThroughlineError, type Message } from "@throughline/wire";
import { CONNECTING, OPEN } from "../api.js";
import { connect } from "../connect.js";
import type { ResolvedEventSourceInit } from "./options.js";
import type { SourceBackend, SourceSink } from "./sink.js";

/** `data` as an EventSource sees it: a published string as is, anything else as JSON ("" for none). */
export function eventData(data: unknown): string {
  if (typeof data === "string") return data;
  return data === undefined ? "" : JSON.stringify(data);
}

export function throughlineSource(url: string, o: ResolvedEventSourceInit, sink: SourceSink, topics?: string[]): SourceBackend {
  const ch = connect(url, topics && !o.connect.topics ? { ...o.connect, topics } : o.connect);
  const origin = new URL(url).origin;
  let closing = false;
  let last: ThroughlineError | undefined;
  // One `error` per drop to CONNECTING: an attempt failure while connecting reports itself; a
  // lost open connection reports once the channel says it is reconnecting.
  let reported = false;
  ch.on("*", (m: Message) => sink.message(m.event, eventData(m.data), m.id, origin));
  ch.on("open", () => sink.open());
  ch.on("error", (e) => {
    last = e;
    if (ch.readyState === CONNECTING) {
      reported = true;
      sink.reconnecting(e);
    }
  });
  ch.on("state", (s) => {
    if (s === OPEN) reported = false;
    if (s !== CONNECTING) return;
    reported = false;
    queueMicrotask(() => {
      if (!reported && !closing && ch.readyState === CONNECTING) {
        reported = true;
        sink.reconnecting(last);
      }
    });
  });
  ch.on("gap", (g) => sink.gap(new ThroughlineError("TL_GAP", DEV ? `messages of topic ${JSON.stringify(g.topic)} may have been missed (${g.reason}); refetch its state.` : `${g.topic} ${g.reason}`), g));
  ch.on("close", ({ error, code, reason }) => {
    if (!closing) sink.fail(error ?? new ThroughlineError("TL_CLOSED", DEV ? `the server closed the stream (${code} ${reason}).` : `${code} ${reason}`, { closeCode: code }));
  });
  return {
    close() {
      closing = true;
      ch.close();
    },
  };
}
