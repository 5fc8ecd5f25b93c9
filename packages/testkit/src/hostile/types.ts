/**
 * Public types of the hostile-network proxies: what a proxy does to traffic (`Behaviour`), the
 * handle a test gets back (`HostileProxy`) and the injectable clock.
 */

/**
 * One thing a real intermediary does to realtime traffic. Combine several in an array: they are
 * applied in order, the first one closest to the upstream server.
 */
export type Behaviour =
  /** A plain proxy: the control case. */
  | { readonly kind: "pass" }
  /** Holds the whole response, status line and headers included, until the upstream ends it. */
  | { readonly kind: "buffer-all" }
  /** Holds the body until `bytes` have accumulated, flushes them, repeats; the rest on end. The head passes at once. */
  | {
      readonly kind: "buffer-bytes";
      /** Block size in bytes (e.g. 4096, 8192, 32768). Required. */
      readonly bytes: number;
    }
  /** SSE only: holds the first event (after any leading comment/padding blocks) until the second is complete (antivirus scanners). */
  | { readonly kind: "hold-first-event" }
  /**
   * Gzips the body (`Content-Encoding: gzip`) when the request accepts gzip, ignoring
   * `Cache-Control: no-transform`, and flushes the compressor only after every `blockBytes` of
   * input (misconfigured compression).
   */
  | {
      readonly kind: "compress";
      /** Uncompressed bytes between compressor flushes. @default 8192 (DEFAULT_COMPRESS_BLOCK_BYTES) */
      readonly blockBytes?: number;
    }
  /** Answers WebSocket upgrade requests 403 with the proxy's own page; plain requests pass. */
  | { readonly kind: "refuse-upgrade" }
  /** Forwards upgrade requests as plain GETs without `Upgrade`/`Connection` (nginx's plain proxy_pass). */
  | { readonly kind: "strip-upgrade" }
  /** Relays the upstream's 101, then closes the connection before any WebSocket data. */
  | { readonly kind: "upgrade-then-close" }
  /** Replaces `text/event-stream` responses by a 403 and the proxy's own HTML page. */
  | { readonly kind: "block-event-stream" }
  /**
   * Aborts an exchange (a response or a WebSocket tunnel) that has seen no traffic either way for
   * `ms`. Idle keep-alive connections between exchanges are left to Node's keep-alive timeout.
   */
  | { readonly kind: "cut-idle"; readonly ms: number }
  /** Aborts every exchange (response or WebSocket tunnel) `ms` after it started, whatever the traffic. */
  | { readonly kind: "cut-after"; readonly ms: number }
  /** Delays every chunk, both directions, by `ms` plus up to `jitterMs`; order is preserved. */
  | {
      readonly kind: "latency";
      readonly ms: number;
      /** Extra random delay, uniform in [0, jitterMs). @default 0 */
      readonly jitterMs?: number;
    };

/** The `kind` of every behaviour. */
export type BehaviourKind = Behaviour["kind"];

/** Time source of a proxy; tests may inject one. All timers a proxy sets go through it (`wire`'s one `Clock`). */
export type { Clock } from "@throughline/wire";
import type { Clock } from "@throughline/wire";

/** Options of `startHostileProxy`. */
export interface HostileProxyOptions {
  /**
   * Time source for latency, buffering and cuts.
   * @default REAL_CLOCK (Date.now and the global timers)
   */
  readonly clock?: Clock;
  /**
   * Random source in [0, 1) for latency jitter (pass a seeded one for reproducible runs).
   * @default Math.random
   */
  readonly random?: () => number;
}

/** Counters of a proxy, live (they change as traffic flows). */
export interface HostileStats {
  /** Plain HTTP requests received (upgrade requests are counted in `upgrades` only). */
  readonly requests: number;
  /** WebSocket upgrade requests received, whatever the proxy then did with them. */
  readonly upgrades: number;
  /** Exchanges the proxy aborted on purpose (cut-idle, cut-after, upgrade-then-close). */
  readonly cuts: number;
}

/** A running hostile proxy. */
export interface HostileProxy {
  /** Base URL, `http://127.0.0.1:PORT` (no trailing slash): put the upstream path after it. */
  readonly url: string;
  readonly port: number;
  readonly stats: HostileStats;
  /** Stops listening, destroys every socket (both sides) and clears every timer. Idempotent. */
  close(): Promise<void>;
}
