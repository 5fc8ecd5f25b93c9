/**
 * The public shape of a channel: ready states, events and methods. The implementation is in
 * `channel.ts`.
 */
import type { GapFrame, Message, ThroughlineError, TransportName } from "@throughline/wire";
import type { AttemptRecord } from "./diagnostics.js";

declare global {
  // The same declaration as lib.esnext.disposable's and @types/node's (TypeScript merges them), so
  // `Channel`'s declarations compile for users whose `lib` predates disposables, e.g. Vite's
  // ES2022 + DOM template (issue #11). Types only: the channel falls back at run time itself.
  interface SymbolConstructor {
    readonly asyncDispose: unique symbol;
  }
}

export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSED = 2;
/** EventSource-like ready state. */
export type ReadyState = typeof CONNECTING | typeof OPEN | typeof CLOSED;

/** What the final `close` event carries. */
export interface CloseEventInfo {
  readonly code: number;
  readonly reason: string;
  readonly error?: ThroughlineError;
}

/** A stream of messages from a Throughline server. */
export interface Channel extends AsyncIterable<Message> {
  readonly url: string;
  /** The transport of the current (or, while reconnecting, the last) connection. */
  readonly transport: TransportName | null;
  readonly readyState: ReadyState;
  readonly session: string | null;
  /** Id of the last message delivered to the app (or the stream position the server named). */
  readonly cursor: string | null;
  /** Every transport attempt (connecting, switching down, climbing back, forced), oldest first, bounded. */
  readonly diagnostics: readonly AttemptRecord[];
  /**
   * Switches to `name` now: proves it, then switches without loss or duplicates (the new
   * connection resumes from the cursor in the same session; the old one closes afterwards).
   * Pauses climbing back. Waits for the channel to be open (at most `connectTimeoutMs`).
   * @throws ThroughlineError TL_CLOSED, TL_INVALID_OPTION (unknown name), TL_NO_TRANSPORT (not proven), TL_CONNECT_TIMEOUT
   */
  switchTransport(name: TransportName): Promise<void>;
  /** Each transport attempt, as it ends (also on `diagnostics`). */
  on(event: "attempt", fn: (attempt: AttemptRecord) => void): () => void;
  /** Each (re)connect. */
  on(event: "open", fn: (info: { transport: TransportName; session: string }) => void): () => void;
  /** Once, when the channel is closed for good. */
  on(event: "close", fn: (info: CloseEventInfo) => void): () => void;
  /** Each failed attempt and each lost connection. */
  on(event: "error", fn: (error: ThroughlineError) => void): () => void;
  on(event: "transport", fn: (info: { transport: TransportName; previous: TransportName | null }) => void): () => void;
  on(event: "state", fn: (state: ReadyState) => void): () => void;
  /** Messages may have been missed: refetch the state of `gap.topic` (`"*"`: all). */
  on(event: "gap", fn: (gap: GapFrame) => void): () => void;
  /** Every message. */
  on(event: "*", fn: (msg: Message) => void): () => void;
  /** Messages by event name (`"message"` is the default event). */
  on(event: string, fn: (msg: Message) => void): () => void;
  off(event: string, fn: (arg: never) => void): void;
  /**
   * Sends `data` (JSON-serializable) to the server. While connecting, waits for the connection
   * (at most `connectTimeoutMs`, else TL_SEND_FAILED). Rejects TL_CLOSED once closed, TL_BAD_DATA
   * for data JSON cannot carry.
   */
  send(data: unknown): Promise<void>;
  /** Closes for good and tells the server. Idempotent; one `close` event with code 1000. */
  close(): void;
  [Symbol.asyncDispose](): Promise<void>;
}
