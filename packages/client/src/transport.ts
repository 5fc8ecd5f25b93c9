/**
 * The internal contract between the channel and a transport. Transports are passed to the
 * channel as values (factories), so a bundle that never names one can drop it.
 */
import { ThroughlineError, type ClientFrame, type HelloFrame, type ProbeFrame, type ServerFrame, type TransportName } from "@throughline/wire";
import type { Clock, WebSocketConstructor } from "./options.js";

/** What a transport needs from its channel. `session` and `cursor` are live: read them when needed. */
export interface TransportContext {
  /** Base URL of the Throughline path. */
  readonly url: string;
  /**
   * The topics query is `topics.join()`: comma-separated, as wire's `formatTopics` spells it (its
   * empty case, "*", is the server's reading of an empty value too, so it needs no code here).
   */
  readonly topics: readonly string[];
  /** Session to join: the channel's current one, or the id it proposes (see `propose`). */
  readonly session: string | null;
  /** `session` is the client's proposal (QUERY.propose): the server creates it if it does not exist yet. */
  readonly propose: boolean;
  /** Id of the last message delivered to the app (updates as messages are delivered). */
  readonly cursor: string | null;
  /** Headers for fetch requests (extra headers and `Authorization`), computed per request. */
  headers(): Promise<Record<string, string>>;
  readonly fetch: typeof fetch;
  readonly WebSocket?: WebSocketConstructor | undefined;
  readonly clock: Clock;
  readonly connectTimeoutMs: number;
}

/** Why a transport ended. */
export interface CloseInfo {
  /** A code of the close-code table (1006 for anything without a code). */
  readonly code: number;
  readonly reason: string;
  readonly error?: ThroughlineError | undefined;
  /**
   * The server itself refused (e.g. a marked 401): neither another transport nor a retry can
   * help, whatever the close-code table says about `code`.
   */
  readonly fatal?: boolean | undefined;
}

/** Close info of a connection that ended without a close code (1006), from the error saying why. */
export const abnormal = (error: ThroughlineError): CloseInfo => ({ code: 1006, reason: error.code, error });

/** A connection that went away without a close frame: TL_CONNECTION_LOST, code 1006. */
export const connectionLost = (message: string, cause?: unknown): CloseInfo =>
  abnormal(new ThroughlineError("TL_CONNECTION_LOST", message, { cause, closeCode: 1006 }));

/** What a transport reports to (always the negotiator's attempt, probe.ts, which passes it on). */
export interface TransportHandlers {
  /** Every frame received, in order. */
  frame(f: ServerFrame): void;
  /** Called at most once, never after `ClientTransport.close()`. */
  close(info: CloseInfo): void;
  /**
   * The server's (or a proxy's) answer began: HTTP 200 headers, or the WebSocket opened. Lets the
   * negotiator tell "buffered" (answer started, frames held) from "timed out" (nothing at all).
   */
  opened(): void;
  /**
   * A new network delivery (a read of the stream, a WebSocket message, a poll answer) is about to
   * be decoded: frames reported before the next call arrived together.
   */
  chunk(): void;
}

/** A link: one connection of a transport (its name is the transport value's, `Transport.name`). */
export interface ClientTransport {
  /** Starts connecting. Never calls a handler synchronously. */
  open(): void;
  /** Sends frames to the server. @throws ThroughlineError TL_SEND_FAILED, TL_BAD_DATA */
  send(frames: ClientFrame[]): Promise<void>;
  /**
   * Stops the transport; its handlers are not called afterwards. With a `code`, the client says
   * goodbye and the server ends the session; without, the connection is only dropped and the
   * session survives for a resume.
   */
  close(code?: number): void;
}

export type TransportFactory = (ctx: TransportContext, handlers: TransportHandlers) => ClientTransport;

/**
 * How a transport proves it delivers (run by probe.ts): a reason string means proven, a
 * ThroughlineError means failed (`buffered`), `undefined` means keep waiting.
 */
export interface ProofRule {
  /** The first hello arrived on `link`: prove at once (long-poll) or start a round trip (WebSocket). */
  hello(link: ClientTransport): string | undefined;
  /**
   * A server probe arrived after the hello: `localGapMs` after it (local clock), in network
   * delivery number `chunk`; the hello came in delivery `helloChunk`.
   */
  probe(f: ProbeFrame, hello: HelloFrame, localGapMs: number, helloChunk: number, chunk: number): string | ThroughlineError | undefined;
}

/**
 * A transport as a value (engine.io-client's `transports: [WebSocket, Polling]`): its link
 * factory, its proof rule and its liveness rule. `connect()` of `@throughline/client/core` takes
 * only these, so a bundle ships only the transports it names.
 */
export interface Transport {
  readonly name: TransportName;
  /** Creates a link (it starts on `open()`). */
  readonly create: TransportFactory;
  readonly proof: ProofRule;
  /**
   * Liveness: `true` for a stream (SSE, WebSocket): heartbeats are watched for lateness and
   * bursts, a quiet stream switches down, and learnt proxy cuts rotate it. `false` for polling:
   * dead only past the held poll plus a heartbeat.
   */
  readonly stream: boolean;
}
