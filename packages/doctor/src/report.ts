/**
 * What the doctor found: one `TransportReport` per transport and a `Verdict`. Plain JSON values,
 * so `--json`, the browser page's "copy report" and a support ticket all carry the same thing.
 */
import type { AttemptOutcome } from "@throughline/client";
import type { TransportName } from "@throughline/wire";

/** One HTTP request a transport made, as seen from the client. Times are ms from the probe's start. */
export interface HttpExchange {
  readonly route: string;
  readonly method: string;
  /** The HTTP status, once headers arrived. */
  status?: number;
  /** Headers that matter for diagnosis (lower-case names), as received. */
  headers: Record<string, string>;
  /** ms to the status line and headers (TTFB as far as fetch can tell). */
  headersMs?: number;
  /** Each network delivery of the body: when, and how many (decoded) bytes. */
  readonly chunks: { readonly atMs: number; readonly bytes: number }[];
  /** Why the request failed before any answer, if it did. */
  error?: string;
}

/** How a stream was held back, if it was. */
export type BufferingKind =
  /** Nothing at all, not even the status line, within the timeout: held until the response ends. */
  | "held-until-end"
  /** Headers, but the body's first bytes held (the server wrote ≥ 2 KB at once): held until N bytes. */
  | "held-until-bytes"
  /** The padding passed, the hello was held until the probe came: first event held until the second. */
  | "first-event-held"
  /** Compressed on the way (`Content-Encoding`), the compressor flushing in blocks. */
  | "compressed"
  /** Delivered, but late (heartbeats arrived well after they were sent). */
  | "late";

export interface Buffering {
  readonly kind: BufferingKind;
  readonly detail: string;
}

/** The WebSocket upgrade, as far as the runtime can tell (browsers hide refusals' statuses). */
export interface UpgradeResult {
  readonly result: "accepted" | "refused" | "closed-after-upgrade" | "failed";
  readonly status?: number | undefined;
  /** Set when the refusal carried the Throughline marker. */
  readonly byServer?: boolean | undefined;
  readonly headers?: Record<string, string> | undefined;
}

/** What the watch after proof saw. */
export interface WatchResult {
  /** How long the proven connection was watched (less if it was cut). */
  readonly ms: number;
  /** The server's heartbeat interval (from its hello). */
  readonly heartbeatMs: number;
  readonly heartbeats: number;
  /** Worst arrival delay of a heartbeat or probe relative to the promptest one. */
  readonly maxLatenessMs: number;
  /** Network deliveries that carried two or more server frames sent apart in time. */
  readonly bursts: number;
  /** WebSocket: median client probe round trip during the watch. */
  readonly roundTripMs?: number | undefined;
}

/** A proven connection that ended during the watch without the server saying so. */
export interface Cut {
  /** ms from the connection's start (its request) to the cut. */
  readonly afterMs: number;
  /** ms of silence (no data either way) just before the cut. */
  readonly quietMs: number;
  /**
   * - `idle`: traffic keeps connections alive, silence is cut;
   * - `fixed`: cut although data flowed (a maximum duration);
   * - `idle-or-fixed`: the connection had been quiet since it opened, so either fits.
   */
  readonly kind: "idle" | "fixed" | "idle-or-fixed";
  /** WebSocket close code, or 1006. */
  readonly code: number;
}

export interface TransportReport {
  readonly transport: TransportName;
  /** The negotiator's outcome for this transport (proof rules of `@throughline/client`). */
  readonly outcome: AttemptOutcome;
  /** The negotiator's reason. */
  readonly reason: string;
  /** Proofs tried (a merged hello and probe is tried again: only a real hold repeats). */
  readonly tries?: number | undefined;
  /** Some answer came back (any status). */
  readonly reachable: boolean;
  /** Status of the transport's main request (the stream, the first poll, the upgrade). */
  readonly status?: number | undefined;
  /** Who answered: the Throughline server (marker header), an intermediary, or nobody. */
  readonly answeredBy: "throughline" | "intermediary" | "none";
  /** Headers that matter: via, server, content-encoding, x-accel-buffering, transfer-encoding, … */
  readonly headers: Record<string, string>;
  /** ms to the status line and headers. */
  readonly ttfbMs?: number | undefined;
  /** ms to the hello / to proof. */
  readonly helloMs?: number | undefined;
  readonly provenMs?: number | undefined;
  readonly buffering?: Buffering | undefined;
  readonly upgrade?: UpgradeResult | undefined;
  readonly watch?: WatchResult | undefined;
  readonly cut?: Cut | undefined;
  /** Closed by the server during the watch (code and reason). */
  readonly closedByServer?: { readonly code: number; readonly reason: string } | undefined;
}

export type Health = "healthy" | "degraded" | "failing";

/** A recognised intermediary and the evidence for it. */
export interface Intermediary {
  readonly name: "nginx" | "apache" | "cloudflare" | "iis" | "proxy";
  /** e.g. `Server: nginx/1.22.1`, `Via: 1.1 corp-proxy`. */
  readonly evidence: string;
}

export interface Fix {
  /** What it fixes, e.g. `buffering`. */
  readonly problem: Problem;
  /** Who applies it: the intermediary's config, or the Throughline server's options. */
  readonly where: string;
  readonly text: string;
}

export type Problem = "buffering" | "compression" | "websocket" | "cut" | "blocked" | "rejected";

export interface Verdict {
  readonly health: Health;
  /** The transport the negotiator would pick, or none. */
  readonly pick: TransportName | null;
  /** Why, in one sentence per transport skipped. */
  readonly why: readonly string[];
  readonly problems: readonly Problem[];
  readonly intermediary?: Intermediary | undefined;
  readonly fixes: readonly Fix[];
}

export interface DoctorReport {
  readonly url: string;
  /** ISO time the run started. */
  readonly startedAt: string;
  /** `node` or the browser's user agent. */
  readonly runtime: string;
  readonly transports: readonly TransportReport[];
  readonly verdict: Verdict;
}

/** Exit codes of `throughline doctor`. */
export const EXIT_CODES = Object.freeze({ healthy: 0, degraded: 1, failing: 2, usage: 64 } as const);
