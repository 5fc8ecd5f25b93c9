/**
 * Diagnostics of the negotiator: one record per transport attempt (connecting, switching down,
 * climbing back, forced switches), kept in a bounded list on the channel and emitted as the
 * `attempt` event, so "why is this user on long-poll?" has an answer in the field.
 */
import type { ThroughlineError, TransportName } from "@throughline/wire";

/**
 * How an attempt ended.
 * - `proven`: the probes arrived promptly and separately: the transport delivers.
 * - `blocked`: refused outright (connection failed, a proxy's own error page, no event stream,
 *   a WebSocket upgrade refused or closed before any data).
 * - `buffered`: an answer started (headers, upgrade, hello) but the probes were held back or
 *   arrived merged into one delivery.
 * - `timeout`: nothing at all in time (a proxy may be holding even the status line).
 * - `rejected`: the Throughline server itself refused (a marked 401/403): never a reason to fall back.
 * - `lost`: an adopted connection ended (cut, dead, closed by the server).
 * - `degraded`: an adopted connection was watched arriving late, in bursts or going quiet.
 * - `cancelled`: another attempt won the race (or the channel closed) first.
 */
export type AttemptOutcome = "proven" | "blocked" | "buffered" | "timeout" | "rejected" | "lost" | "degraded" | "cancelled";

/** Why the attempt was made. */
export type AttemptPurpose = "connect" | "switch-down" | "climb" | "forced" | "rotate" | "scout";

/** One attempt of one transport. Times are ms on the channel's clock. */
export interface AttemptRecord {
  readonly transport: TransportName;
  readonly purpose: AttemptPurpose;
  readonly outcome: AttemptOutcome;
  /** Clock time the attempt started. */
  readonly startedAt: number;
  /** ms from start to the first byte of an answer (headers / WebSocket open), if any. */
  readonly openedMs?: number | undefined;
  /** ms from start to the hello, if it arrived. */
  readonly helloMs?: number | undefined;
  /** ms from start to proof (`proven` only). */
  readonly provenMs?: number | undefined;
  /** ms from start to the outcome. */
  readonly endedMs: number;
  /** Which network delivery carried the hello and the probe (SSE: they must differ). */
  readonly chunks?: { readonly hello?: number | undefined; readonly probe?: number | undefined } | undefined;
  /** Human-readable reason (production browser bundles: its key values only, as error messages). */
  readonly reason: string;
  readonly error?: ThroughlineError | undefined;
}

/** Records kept on `ch.diagnostics` (oldest dropped first). */
export const MAX_DIAGNOSTICS = 100;
