/** What a protocol backend reports to the facade, and how the facade stops it. */
import type { GapFrame, ThroughlineError } from "@throughline/wire";

export interface SourceSink {
  /** The connection is established: `readyState` OPEN and an `open` event (once per connection). */
  open(): void;
  /** An event to dispatch (before it, `open` if the facade was still CONNECTING). */
  message(type: string, data: string, lastEventId: string, origin: string): void;
  /** Connection lost or an attempt failed; a reconnect follows: `readyState` CONNECTING and `error`. */
  reconnecting(error: ThroughlineError | undefined): void;
  /** Failed for good (no reconnect): `readyState` CLOSED and `error`. */
  fail(error: ThroughlineError): void;
  /** An `error` event that changes no state: messages may have been missed (`TL_GAP`). */
  gap(error: ThroughlineError, gap: GapFrame): void;
  /** Auto mode found a Throughline server at `url`: the facade switches to `connect()`. */
  handover(url: string, topics: string[] | undefined): void;
}

export interface SourceBackend {
  /** Stops for good: no request, timer or event after this. Idempotent. */
  close(): void;
}
