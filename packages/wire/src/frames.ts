/**
 * Frames: the units Throughline exchanges, whatever the transport.
 *
 * Server→client frames are messages (what the application published) and control frames
 * (hello, heartbeat, probe, gap, close). Client→server frames are application messages plus
 * heartbeats, probe echoes and a polite close. Every transport carries the same frames; only the
 * byte encoding differs (see `sse.ts` and `json.ts`).
 */

/** The three transports, in Throughline's default order of preference. */
export type TransportName = "sse" | "websocket" | "long-poll";

/** Default preference order: SSE first (plain HTTP, proxy friendly), then WebSocket, then long-poll. */
export const TRANSPORTS: readonly TransportName[] = Object.freeze(["sse", "websocket", "long-poll"]);

/** A published message as the application sees it. `id` is opaque: epoch and sequence. */
export interface Message<T = unknown> {
  readonly id: string;
  readonly topic: string;
  readonly event: string;
  readonly data: T;
}

export interface MessageFrame<T = unknown> extends Message<T> {
  readonly type: "message";
}

/** First frame of every connection: who you are, how the server will behave. */
export interface HelloFrame {
  readonly type: "hello";
  /** Session id: one logical client across reconnects and transport switches. */
  readonly session: string;
  readonly transport: TransportName;
  /** Interval at which the server sends heartbeats on this connection. */
  readonly heartbeatMs: number;
  /** Server clock (ms since epoch) when the hello was written. */
  readonly time: number;
  /** Id of the newest message the stream continues after: the client's cursor from here on. */
  readonly cursor: string;
  /** Suggested base reconnect delay (SSE's `retry:` on every transport). */
  readonly retryMs: number;
  /** Long-poll only: how long the server holds an empty poll before answering. */
  readonly holdMs?: number;
}

export interface HeartbeatFrame {
  readonly type: "heartbeat";
  /** Server (or client) clock in ms, for lateness measurement. */
  readonly time: number;
}

/** A probe written by the server to prove a transport delivers promptly and separately. */
export interface ProbeFrame {
  readonly type: "probe";
  readonly seq: number;
  readonly time: number;
}

/** Why the history could not cover a resume. */
export type GapReason = "evicted" | "epoch" | "invalid-cursor";

/**
 * Messages may have been missed at exactly this point of the stream (the history no longer
 * covers the cursor). The application should refetch its state for `topic` (`"*"`: all topics).
 */
export interface GapFrame {
  readonly type: "gap";
  readonly topic: string;
  readonly reason: GapReason;
  /** The cursor the stream continues after. */
  readonly cursor: string;
}

/** The server ends the connection; `code` is from the close-code table (`codes.ts`). */
export interface CloseFrame {
  readonly type: "close";
  readonly code: number;
  readonly reason: string;
}

export type ControlFrame = HelloFrame | HeartbeatFrame | ProbeFrame | GapFrame | CloseFrame;
export type ServerFrame = MessageFrame | ControlFrame;

export type ClientFrame =
  | { readonly type: "message"; readonly data: unknown }
  | { readonly type: "heartbeat"; readonly time: number }
  | { readonly type: "probe"; readonly seq: number }
  | { readonly type: "close"; readonly code?: number; readonly reason?: string };

/** SSE event names of control frames start with this; applications cannot publish them. */
export const CONTROL_EVENT_PREFIX = "tl:";

/**
 * Event names the client channel uses for its own lifecycle, so applications cannot publish
 * messages under them (`ch.on("close", …)` must never mean two things).
 */
export const RESERVED_EVENTS: ReadonlySet<string> = new Set([
  "open",
  "close",
  "error",
  "transport",
  "state",
  "gap",
  "attempt",
  "*",
]);
