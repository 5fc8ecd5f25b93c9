/**
 * Options of `redisBackplane`, their defaults and validation (conflicts and out-of-range values
 * are rejected at construction, naming the option).
 */
import type { RedisOptions } from "ioredis";
import { ThroughlineError } from "@throughline/wire";

export interface RedisBackplaneOptions {
  /** Redis URL (`redis://[user:pass@]host:port[/db]`, `rediss://` for TLS). @default "redis://127.0.0.1:6379" */
  readonly url?: string;
  /**
   * Prefix of every key. Installations sharing one Redis need different prefixes. The keys also
   * carry the hash tag `{h}`, so in Redis Cluster the history keys share a slot (the scripts
   * touch two keys at once). @default "throughline:"
   */
  readonly keyPrefix?: string;
  /**
   * Messages the shared history retains, across all topics (a Redis Stream trimmed with
   * `MAXLEN ~`, so slightly more may be kept). Size it with the README's memory table.
   * @default 10000
   */
  readonly historyLength?: number;
  /**
   * Deadline of each command on the command connection (append, since, sessions, tickets,
   * counters); past it the call rejects with `TL_BACKPLANE_UNAVAILABLE`. The blocking ingest read
   * runs on its own connection without one. @default 2000
   */
  readonly commandTimeoutMs?: number;
  /**
   * How long the ingest's `XREAD BLOCK` waits before it checks the epoch again; bounds how late a
   * node notices a new epoch started while its read was blocked (a flush without restart).
   * @default 1000
   */
  readonly blockMs?: number;
  /** Messages taken per ingest read (memory bound of the ingest). @default 500 */
  readonly readBatch?: number;
  /**
   * Calls (appends, reads, sessions, tickets, counters) waiting for Redis at once; more reject at
   * once with `TL_BACKPLANE_UNAVAILABLE`, so a slow Redis cannot grow memory without bound.
   * @default 1000
   */
  readonly maxPendingCommands?: number;
  /** Longest reconnect delay (exponential backoff from 50 ms). @default 2000 */
  readonly maxReconnectDelayMs?: number;
  /**
   * Whether a client's cursor ahead of the head counts as proof that the history went backwards
   * (Redis restored from an older snapshot, or a failover to a lagging replica, while no node that
   * saw the newer head is running). Then the history starts a new epoch and every client gets one
   * `epoch` gap; without it, the sequence numbers above the head would be handed out again and the
   * client would drop the new messages as duplicates of ones it had. A forged cursor can then force
   * a new epoch (one gap for every client, nothing lost), at most once per
   * `clientRewindIntervalMs`; turn this off only where clients are hostile and nodes never all
   * restart together. Nodes' own high-water marks always count.
   * @default true
   */
  readonly trustClientCursors?: boolean;
  /**
   * Shortest time between two new epochs started on clients' cursors (across nodes); within it a
   * cursor ahead of the head gets an `ahead` gap (wire `invalid-cursor`) instead. @default 60000
   */
  readonly clientRewindIntervalMs?: number;
  /**
   * Lease of a connection-limit slot (`counters`): this node renews its slots every third of it;
   * a node that dies without releasing (SIGKILL) frees its slots when the lease runs out. Shorter
   * frees sooner and renews more often (one script per 500 slots each time). @default 15000
   */
  readonly leaseMs?: number;
  /**
   * Extra ioredis options for both connections: TLS, username/password, `db`, or Sentinel
   * (`sentinels` + `name`, in which case `url` is ignored). The options that make failures
   * bounded (offline queue, retries, resend, timeouts, protocol) are the backplane's and cannot be
   * overridden. @default {}
   */
  readonly redisOptions?: RedisOptions;
}

/** Defaults of `RedisBackplaneOptions`. */
export const DEFAULT_REDIS_BACKPLANE_OPTIONS = Object.freeze({
  url: "redis://127.0.0.1:6379",
  keyPrefix: "throughline:",
  historyLength: 10_000,
  commandTimeoutMs: 2_000,
  blockMs: 1_000,
  readBatch: 500,
  maxPendingCommands: 1_000,
  maxReconnectDelayMs: 2_000,
  leaseMs: 15_000,
  trustClientCursors: true,
  clientRewindIntervalMs: 60_000,
  redisOptions: Object.freeze({}) as RedisOptions,
});

export type ResolvedRedisBackplaneOptions = Readonly<Required<RedisBackplaneOptions>>;

function invalid(message: string): ThroughlineError {
  return new ThroughlineError("TL_INVALID_OPTION", `redisBackplane option ${message}`);
}

/** @throws ThroughlineError TL_INVALID_OPTION */
export function resolveOptions(options: RedisBackplaneOptions): ResolvedRedisBackplaneOptions {
  const d = DEFAULT_REDIS_BACKPLANE_OPTIONS;
  const int = (name: Exclude<keyof typeof d, "url" | "keyPrefix" | "trustClientCursors" | "redisOptions">, min: number, max: number): number => {
    const v = options[name] ?? d[name];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
      throw invalid(`\`${name}\` must be an integer in [${min}, ${max}] (got ${String(v).slice(0, 40)}).`);
    }
    return v;
  };
  const url = options.url ?? d.url;
  if (typeof url !== "string" || !/^rediss?:\/\//.test(url)) throw invalid(`\`url\` must start with redis:// or rediss:// (got ${String(url).slice(0, 40)}).`);
  const keyPrefix = options.keyPrefix ?? d.keyPrefix;
  if (typeof keyPrefix !== "string" || keyPrefix.length > 100 || /[{}\s]/.test(keyPrefix)) {
    throw invalid("`keyPrefix` must be a string of at most 100 characters without braces or spaces.");
  }
  const blockMs = int("blockMs", 10, 60_000);
  const trustClientCursors = options.trustClientCursors ?? d.trustClientCursors;
  if (typeof trustClientCursors !== "boolean") throw invalid("`trustClientCursors` must be a boolean.");
  const redisOptions = options.redisOptions ?? d.redisOptions;
  if (typeof redisOptions !== "object" || redisOptions === null) throw invalid("`redisOptions` must be an object of ioredis options.");
  const commandTimeoutMs = int("commandTimeoutMs", 10, 600_000);
  return Object.freeze({
    url,
    keyPrefix,
    historyLength: int("historyLength", 1, 100_000_000),
    commandTimeoutMs,
    blockMs,
    readBatch: int("readBatch", 1, 100_000),
    maxPendingCommands: int("maxPendingCommands", 1, 1_000_000),
    maxReconnectDelayMs: int("maxReconnectDelayMs", 50, 600_000),
    leaseMs: int("leaseMs", 30, 3_600_000),
    clientRewindIntervalMs: int("clientRewindIntervalMs", 1, 86_400_000),
    trustClientCursors,
    redisOptions,
  });
}
