/**
 * `redisBackplane()`: the `Backplane` contract on Redis with ioredis. Two connections per node:
 * - commands (append, since, sessions, tickets, counters): a deadline per command
 *   (`commandTimeoutMs`), no offline queue and no resend after a reconnect, so while Redis is
 *   away every call fails at once with `TL_BACKPLANE_UNAVAILABLE` (bounded memory, never a
 *   message appended twice by a resend) and works again as soon as it is back;
 * - the ingest reader: `XREAD BLOCK` without a client-side deadline (see ingest.ts).
 * ioredis reconnects both by itself, with capped exponential backoff.
 */
import { Redis, type RedisOptions } from "ioredis";
import { ThroughlineError, assertEventName, assertTopic, isEpoch, newEpoch } from "@throughline/wire";
import type { Backplane, BackplaneListener, BackplaneMessage, BackplanePosition, HistoryRead } from "./contract.js";
import { toHead, toMessage, type StreamEntry } from "./codec.js";
import { closed, guard, unavailable } from "./errors.js";
import { Ingest } from "./ingest.js";
import { resolveOptions, type RedisBackplaneOptions } from "./options.js";
import { ACQUIRE_LUA, APPEND_LUA, HEAD_LUA, HIT_LUA, READ_LUA, RENEW_LUA, historyKeys } from "./scripts.js";
import { sessionStore, ticketStore } from "./stores.js";
import { sharedCounters, type CounterCommands, type RedisCounters } from "./counters.js";

interface HistoryCommands extends CounterCommands {
  tlHead(meta: string, log: string, knownEpoch: string, knownSeq: number, candidate: string, retired: string): Promise<unknown>;
  tlAppend(meta: string, log: string, knownEpoch: string, knownSeq: number, candidate: string, retired: string, maxlen: number, topic: string, event: string, data: string): Promise<unknown>;
  tlRead(meta: string, log: string, epoch: string, seq: number, count: number): Promise<unknown[]>;
}

type Connection = Redis & HistoryCommands;

/** Retired epochs a node remembers (each restore from before an epoch change needs one). */
const MAX_RETIRED_EPOCHS = 16;

/** The Redis backplane, with its connections exposed for diagnostics. */
export interface RedisBackplane extends Backplane {
  /** The newest position this node has seen (appended, read or ingested). */
  readonly known: BackplanePosition | undefined;
  /** The counters, with the lease renewal this node runs (see counters.ts). */
  readonly counters: RedisCounters;
}

function connection(url: string, user: RedisOptions, own: RedisOptions): Connection {
  const redis = new Redis(url, {
    ...user,
    // RESP2: stream replies keep the [id, [field, value…]] shape on every server version.
    protocol: 2,
    lazyConnect: true,
    enableReadyCheck: true,
    ...own,
  }) as Connection;
  redis.defineCommand("tlHead", { numberOfKeys: 2, lua: HEAD_LUA });
  redis.defineCommand("tlAppend", { numberOfKeys: 2, lua: APPEND_LUA });
  redis.defineCommand("tlRead", { numberOfKeys: 2, lua: READ_LUA, readOnly: true });
  // Variable key counts: the first argument of each call is its number of keys.
  redis.defineCommand("tlAcquire", { lua: ACQUIRE_LUA });
  redis.defineCommand("tlRenew", { lua: RENEW_LUA });
  redis.defineCommand("tlHit", { numberOfKeys: 1, lua: HIT_LUA });
  // Errors are reported through the calls that fail; an unhandled 'error' event would crash.
  redis.on("error", () => {});
  return redis;
}

/**
 * Waits (at most `timeoutMs`) for a connection that is connecting to become ready, starting the
 * first connect of a lazy one. A reconnecting one is not waited for: without an offline queue its
 * commands then fail at once, which is what keeps a Redis outage from piling up calls.
 */
function readiness(timeoutMs: number): (redis: Redis) => Promise<void> {
  const waits = new WeakMap<Redis, Promise<void>>();
  return (redis) => {
    if (redis.status === "wait") redis.connect().catch(() => {});
    if (redis.status !== "connecting" && redis.status !== "connect") return Promise.resolve();
    let wait = waits.get(redis);
    if (!wait) {
      wait = new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          redis.off("ready", done);
          redis.off("close", done);
          waits.delete(redis);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        redis.once("ready", done);
        redis.once("close", done);
      });
      waits.set(redis, wait);
    }
    return wait;
  };
}

/** Validates a cursor given to `since`. */
function checkPosition(p: BackplanePosition): void {
  if (!p || typeof p.epoch !== "string" || !isEpoch(p.epoch) || !Number.isSafeInteger(p.seq) || p.seq < 0) {
    throw new ThroughlineError("TL_BAD_REQUEST", "a backplane cursor must be { epoch: [a-z0-9]{1,16}, seq: a non-negative integer }.");
  }
}

/**
 * A backplane on the Redis at `options.url`. Connects lazily on first use; `close()` it.
 * @throws ThroughlineError TL_INVALID_OPTION for an invalid option
 */
export function redisBackplane(options: RedisBackplaneOptions = {}): RedisBackplane {
  const o = resolveOptions(options);
  const keys = historyKeys(o.keyPrefix);
  const retryStrategy = (times: number) => Math.min(o.maxReconnectDelayMs, 50 * 2 ** Math.min(times, 10));
  const commands = connection(o.url, o.redisOptions, {
    commandTimeout: o.commandTimeoutMs,
    connectTimeout: o.commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy,
  });
  const reader = connection(o.url, o.redisOptions, {
    // No deadline on the blocking read (see ingest.ts), whatever the user's options say.
    commandTimeout: undefined,
    blockingTimeout: undefined,
    connectTimeout: o.commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy,
  });
  let known: BackplanePosition | undefined;
  let pending = 0;
  let isClosed = false;
  let ingest: Ingest | undefined;
  let starting: Promise<Ingest> | undefined;

  /** Epochs this node saw replaced, newest last (bounded): one coming back is a rewind too. */
  const retired: string[] = [];
  /** Remembers the highest position seen, per epoch: what proves a later rewind. */
  const observe = (p: BackplanePosition) => {
    if (known && known.epoch !== p.epoch && !retired.includes(known.epoch)) {
      retired.push(known.epoch);
      if (retired.length > MAX_RETIRED_EPOCHS) retired.shift();
    }
    if (!known || known.epoch !== p.epoch || p.seq > known.seq) known = { epoch: p.epoch, seq: p.seq };
  };
  const knownArgs = (k: BackplanePosition | undefined): [string, number, string, string] => [k?.epoch ?? "", k?.seq ?? 0, newEpoch(), `,${retired.join(",")},`];

  const ready = readiness(o.commandTimeoutMs);
  /**
   * The command connection's calls: at most `maxPendingCommands` at once (a slow Redis makes calls
   * fail, never pile up), run once it is ready, failures as TL_BACKPLANE_UNAVAILABLE (TL_CLOSED
   * once closed).
   */
  const call = async <T>(what: string, op: () => Promise<T>): Promise<T> => {
    if (isClosed) throw closed();
    if (pending >= o.maxPendingCommands) throw unavailable(`${what} (${pending} calls already wait for Redis)`);
    pending++;
    try {
      await ready(commands);
      return await op();
    } catch (err) {
      if (isClosed) throw closed();
      throw err instanceof ThroughlineError ? err : unavailable(what, err);
    } finally {
      pending--;
    }
  };

  const head = async (k: BackplanePosition | undefined, via: Connection): Promise<BackplanePosition> => {
    if (isClosed) throw closed();
    await ready(via);
    const { position } = toHead(await via.tlHead(keys.meta, keys.log, ...knownArgs(k)));
    observe(position);
    return position;
  };

  /**
   * Whether a client's cursor may start a new epoch now: at most once per `clientRewindIntervalMs`
   * across nodes, so forged cursors cannot make every client reconnect over and over.
   */
  const clientRewind = async (): Promise<boolean> => (await commands.set(keys.rewind, "1", "PX", o.clientRewindIntervalMs, "NX")) === "OK";

  const read = async (topics: readonly string[], cursor: BackplanePosition, limit: number): Promise<HistoryRead> => {
    let reply = await commands.tlRead(keys.meta, keys.log, cursor.epoch, cursor.seq, limit);
    const ahead = reply.length === 2;
    const proven = known?.epoch === cursor.epoch && known.seq >= cursor.seq;
    if (reply.length === 0 || retired.includes(String(reply[0])) || (ahead && (proven || (o.trustClientCursors && (await clientRewind()))))) {
      // Lost history, or a cursor ahead of the head that this node saw handed out (or a trusted
      // client's): the history went backwards, and the head script starts a new epoch.
      const seen = ahead && !proven ? cursor : known;
      await head(seen, commands);
      reply = await commands.tlRead(keys.meta, keys.log, cursor.epoch, cursor.seq, limit);
      if (reply.length === 0) throw unavailable("since (the history changed during the read)");
    }
    if (reply.length === 2) {
      // Ahead, on a client's word alone: that client continues after the head.
      const position = { epoch: String(reply[0]), seq: Number(reply[1]) };
      observe(position);
      return { messages: [], gap: { reason: "ahead", cursor, continueAfter: position }, head: position, more: false };
    }
    const [epoch, seq, , from, entries] = reply as [string, number, number, number, StreamEntry[]];
    const headPosition = { epoch, seq: Number(seq) };
    observe(headPosition);
    const all = topics.length === 1 && topics[0] === "*";
    const wanted = all ? undefined : new Set(topics);
    const messages: BackplaneMessage[] = [];
    for (const entry of entries) {
      const m = toMessage(entry);
      if (m && (!wanted || wanted.has(m.topic))) messages.push(m);
    }
    const covered = epoch === cursor.epoch && Number(from) === cursor.seq;
    return {
      messages,
      gap: covered ? undefined : { reason: epoch === cursor.epoch ? "evicted" : "epoch", cursor, continueAfter: { epoch, seq: Number(from) } },
      head: headPosition,
      more: entries.length === limit,
    };
  };

  const counters = sharedCounters(commands, o.keyPrefix, call, o.leaseMs);

  const backplane: RedisBackplane = {
    get known() {
      return known;
    },

    async append(topic, event, data) {
      assertTopic(topic);
      assertEventName(event);
      if (typeof data !== "string") throw new ThroughlineError("TL_BAD_DATA", "backplane data must be a string (the serialized payload).");
      return call("append", async () => {
        const { position } = toHead(await commands.tlAppend(keys.meta, keys.log, ...knownArgs(known), o.historyLength, topic, event, data));
        observe(position);
        return position;
      });
    },

    async since(topics, cursor, limit = o.historyLength) {
      checkPosition(cursor);
      if (!Array.isArray(topics) || topics.length === 0) throw new ThroughlineError("TL_BAD_TOPIC", "since needs at least one topic (or [\"*\"]).");
      for (const t of topics) if (t !== "*") assertTopic(t);
      if (!Number.isSafeInteger(limit) || limit < 1) throw new ThroughlineError("TL_INVALID_OPTION", "since `limit` must be a positive integer.");
      return call("since", () => read(topics, cursor, limit));
    },

    head: () => call("head", () => head(known, commands)),

    async subscribe(listener: BackplaneListener) {
      if (isClosed) throw closed();
      starting ??= guard("subscribe", async () => {
        const start = await head(known, reader);
        ingest = new Ingest(
          {
            reader,
            logKey: keys.log,
            blockMs: o.blockMs,
            readBatch: o.readBatch,
            maxReconnectDelayMs: o.maxReconnectDelayMs,
            head: async (k, via) => {
              // The ingest's own high-water mark and this node's appends both prove what was seen.
              const seen = known && k && known.epoch === k.epoch && known.seq > k.seq ? known : k;
              return head(seen, via as Connection);
            },
          },
          start,
        );
        // What the ingest delivers is seen too: an append or a resume after a rewind must compare
        // against every node's messages, not only this node's own appends (else a restored older
        // snapshot hands out seq numbers again that this node already delivered).
        ingest.add({ message: observe, gap: (g) => observe(g.continueAfter) });
        return ingest;
      });
      let started: Ingest;
      try {
        started = await starting;
      } catch (err) {
        starting = undefined;
        throw err;
      }
      return started.add(listener);
    },

    sessions: sessionStore(commands, o.keyPrefix, call),
    tickets: ticketStore(commands, o.keyPrefix, call),
    counters,

    async close() {
      if (isClosed) return;
      isClosed = true;
      counters.stop();
      const stopping = ingest?.stop();
      reader.disconnect();
      commands.disconnect();
      await stopping;
    },
  };
  return backplane;
}
