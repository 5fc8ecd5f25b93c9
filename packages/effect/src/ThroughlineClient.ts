/**
 * The Throughline client as Effect values: `connect` is a scoped Effect (closing the scope or
 * interrupting the fiber closes the channel), messages are `Stream`s (all, per topic decoded with
 * the topic's `Schema`, per event), `send` is an Effect, the ready state and transport are
 * `SubscriptionRef`s, the reconnect and climb-back policies can be `Schedule`s, and the token an
 * Effect that may use the application's services. Failures are the tagged errors of `Errors`.
 *
 * Browser-safe: uses the core client's browser entry; in Node 20 pass `WebSocket` (or import
 * `@throughline/effect/client/node`, which defaults it to `ws`).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect";
import * as FiberSet from "effect/FiberSet";
import * as Result from "effect/Result";
import type * as Schedule from "effect/Schedule";
import type * as Scope from "effect/Scope";
import * as Stream from "effect/Stream";
import * as SubscriptionRef from "effect/SubscriptionRef";
import {
  CLOSED,
  CONNECTING,
  OPEN,
  DEFAULT_CONNECT_OPTIONS,
  connect as coreConnect,
  type Channel as CoreChannel,
  type CloseEventInfo,
  type ConnectOptions as CoreConnectOptions,
  type ReadyState,
} from "@throughline/client";
import { ThroughlineError, closeReconnects, type GapFrame, type Message, type TransportName } from "@throughline/wire";
import { ConnectionLostError, fromClose, fromThroughlineError, InvalidInputError, type SchemaMismatchError, type WireError } from "./Errors.js";
import { decodeEach, type OnMismatch } from "./internal/decode.js";
import { fromListener, Lifetime } from "./internal/events.js";
import { counted } from "./internal/fibers.js";
import { Relay, type Delivery, type TransportChange } from "./internal/relay.js";
import * as Topic from "./Topic.js";

export { CLOSED, CONNECTING, OPEN, type ReadyState };

/**
 * Options of `connect`: every core option (`ConnectOptions` of `@throughline/client`), with the
 * token, the reconnect policy and the climb-back policy in Effect terms.
 * @since 0.1.0 @category models
 */
export interface ConnectOptions<R = never> extends Omit<CoreConnectOptions, "token" | "reconnect"> {
  /**
   * The bearer token: a string, or an Effect run for every request that needs it (so it can
   * refresh through the application's auth service, `R`). A failure fails that request.
   * @default undefined (no Authorization header)
   */
  readonly token?: string | Effect.Effect<string, unknown, R> | undefined;
  /**
   * Reconnecting after a lost connection or a failed connect round:
   * - `undefined`: the core client's own exponential backoff (`coreReconnect`);
   * - a `Schedule` (its input is the `WireError` that ended the connection): each lost connection
   *   is retried on its rhythm (delays run on Effect's `Clock`, so `TestClock` drives them), a
   *   new session resuming from the cursor; when the schedule ends, the channel fails with the
   *   last error. The schedule restarts after every successful open.
   * - `false`: the first lost connection ends the channel (its streams fail with the error).
   * @default undefined
   */
  readonly reconnect?: Schedule.Schedule<unknown, WireError> | false | undefined;
  /** The core client's backoff, used when `reconnect` is `undefined`. @default { minDelayMs: 250, maxDelayMs: 30_000 } */
  readonly coreReconnect?: CoreConnectOptions["reconnect"];
  /**
   * Climbing back to the first of `transports` after a fallback: a `Schedule` whose every
   * recurrence tries `switchTransport` to it when the channel is open on another transport
   * (replacing the core's `climbMinDelayMs`/`climbMaxDelayMs`). @default undefined (the core's climb back)
   */
  readonly climb?: Schedule.Schedule<unknown, void> | undefined;
  /**
   * Messages (and gaps) held while no stream of the channel is running, for the first stream
   * that starts. Past this many the channel fails (`InvalidInputError`) instead of growing or
   * dropping them. @default 10_000
   */
  readonly holdLimit?: number | undefined;
}

/** Defaults of the options this module adds. @since 0.1.0 @category constants */
export const DEFAULT_EFFECT_CONNECT_OPTIONS = Object.freeze({ holdLimit: 10_000 });

/** A received message whose data was decoded with its topic's schema. @since 0.1.0 @category models */
export interface Received<A> extends Message<A> {}

/** @since 0.1.0 @category models */
export interface Channel {
  readonly url: string;
  /** The core channel now behind this one (a Schedule-driven reconnect replaces it). */
  readonly core: () => CoreChannel;
  /** The ready state (CONNECTING 0, OPEN 1, CLOSED 2); `SubscriptionRef.changes` streams it. */
  readonly state: SubscriptionRef.SubscriptionRef<ReadyState>;
  /** The transport of the current (or last) connection. */
  readonly transport: SubscriptionRef.SubscriptionRef<TransportName | null>;
  /** Every message, in order, until the channel closes (ends) or fails (fails with the tagged error). */
  readonly messages: Stream.Stream<Message, WireError>;
  /** Messages and gap signals interleaved exactly as they arrived (a gap sits where messages may be missing). */
  readonly deliveries: Stream.Stream<Delivery, WireError>;
  /** Messages of one event name. */
  event(name: string): Stream.Stream<Message, WireError>;
  /** Messages of one topic, raw. */
  topic(name: string): Stream.Stream<Message, WireError>;
  /**
   * Messages of one topic decoded with its schema. A message that does not match fails the
   * stream with `SchemaMismatchError` (`onMismatch: "fail"`, the default) or is skipped ("skip").
   */
  topic<T extends Topic.AnyTopic>(topic: T, options?: { readonly onMismatch?: OnMismatch }): Stream.Stream<Received<Topic.TypeOf<T>>, WireError | SchemaMismatchError>;
  /** Gap signals: messages of `gap.topic` may have been missed; refetch its state. */
  readonly gaps: Stream.Stream<GapFrame, WireError>;
  /** Transport changes (connecting, switching down, climbing back). */
  readonly transportChanges: Stream.Stream<TransportChange, WireError>;
  /** Non-final errors (failed attempts, lost connections that will be retried). */
  readonly errors: Stream.Stream<WireError, WireError>;
  /** Sends `data` (JSON) to the server; while (re)connecting waits for the connection (at most `connectTimeoutMs`, else `TL_SEND_FAILED`). */
  send(data: unknown): Effect.Effect<void, WireError>;
  /** Switches to `name` now, without loss or duplicates. */
  switchTransport(name: TransportName): Effect.Effect<void, WireError>;
  /** Id of the last message delivered. */
  readonly cursor: Effect.Effect<string | null>;
  /** Succeeds when the channel has ended: `undefined` after a normal close, else the error. */
  readonly closed: Effect.Effect<WireError | undefined>;
}

function invalid(message: string): InvalidInputError {
  return new InvalidInputError({ code: "TL_INVALID_OPTION", message: `Throughline: ${message}` });
}

/**
 * Opens a channel in the current scope. Invalid options fail at once with `InvalidInputError`;
 * network failures surface on the channel's streams and `closed`, per the reconnect policy.
 * @since 0.1.0 @category constructors
 */
export const connect = <R = never>(url: string, options: ConnectOptions<R> = {}): Effect.Effect<Channel, InvalidInputError, Scope.Scope | R> =>
  Effect.gen(function* () {
    const { token, reconnect, coreReconnect, climb, holdLimit = DEFAULT_EFFECT_CONNECT_OPTIONS.holdLimit, ...rest } = options;
    if (!Number.isInteger(holdLimit) || holdLimit < 0) return yield* invalid("holdLimit must be a non-negative integer.");
    const run = yield* FiberSet.makeRuntimePromise<R>();
    const fibers = yield* FiberSet.make<unknown, unknown>();
    const driven = reconnect !== undefined; // this module, not the core, reconnects
    const core: CoreConnectOptions = {
      ...rest,
      reconnect: driven ? false : coreReconnect,
      negotiation: climb ? { ...rest.negotiation, climbMinDelayMs: false } : rest.negotiation,
    };
    // A failing token Effect is an authentication failure of that attempt (never a crash).
    const tokenFailed = (cause: unknown) => new ThroughlineError("TL_UNAUTHORIZED", "the token Effect failed; see cause.", { cause });
    if (token !== undefined) core.token = typeof token === "string" ? token : () => run(Effect.mapError(token, tokenFailed));

    const state = yield* SubscriptionRef.make<ReadyState>(CONNECTING);
    const transport = yield* SubscriptionRef.make<TransportName | null>(null);
    // From core callbacks: runs synchronously unless a `changes` subscriber holds the ref's lock
    // for a moment, then completes right after it (in order: the lock is fair).
    const set = <A>(ref: SubscriptionRef.SubscriptionRef<A>, a: A) => void Effect.runFork(SubscriptionRef.set(ref, a));
    const lifetime = new Lifetime<WireError>();
    let ended: WireError | undefined | null = null; // null: not yet
    const endWaiters = new Set<(e: WireError | undefined) => void>();
    let closing = false;
    /** Ends the channel once; `setState` false when the caller, a fiber, sets CLOSED itself (see `ending`). */
    const end = (error?: WireError, setState = true) => {
      if (ended !== null) return;
      ended = error;
      if (setState) set(state, CLOSED);
      lifetime.end(error);
      relay.clear();
      for (const w of endWaiters) w(error);
      endWaiters.clear();
      current.close();
    };
    // Inside a fiber a forked `set` would only run after it yields: set CLOSED in the fiber itself,
    // so `state` reads CLOSED as soon as the scope has closed.
    const ending = (error?: WireError) =>
      Effect.suspend(() => {
        if (ended !== null) return Effect.void;
        end(error, false);
        return SubscriptionRef.set(state, CLOSED);
      });
    const relay = new Relay(holdLimit, () =>
      end(invalid(`more than holdLimit (${holdLimit}) messages arrived while no stream of the channel was running: start one, or raise holdLimit.`)),
    );

    let cursor: string | null = options.cursor ?? null;
    const open = (): CoreChannel => {
      const ch = coreConnect(url, cursor === null ? core : { ...core, cursor });
      const live = () => ch === current && ended === null;
      ch.on("*", (message: Message) => {
        if (!live()) return;
        cursor = message.id;
        relay.deliver({ kind: "message", message });
      });
      ch.on("gap", (gap) => live() && relay.deliver({ kind: "gap", gap }));
      ch.on("transport", (change) => {
        if (!live()) return;
        set(transport, change.transport);
        relay.transport(change);
      });
      ch.on("state", (s) => {
        // A driven reconnect owns CLOSED: a core channel ending is not the channel ending.
        if (live() && (s !== CLOSED || !driven)) set(state, s);
      });
      ch.on("error", (e) => live() && relay.error(fromThroughlineError(e)));
      return ch;
    };

    let current: CoreChannel;
    try {
      current = open();
    } catch (e) {
      return yield* Effect.fail(fromThroughlineError(e) as InvalidInputError);
    }

    /** Waits for the current core channel's final close event. */
    const closeOf = (ch: CoreChannel) =>
      Effect.callback<CloseEventInfo>((resume) => {
        if (ch.readyState === CLOSED && closeInfo.has(ch)) return resume(Effect.succeed(closeInfo.get(ch)!));
        const off = ch.on("close", (info) => resume(Effect.succeed(info)));
        return Effect.sync(off);
      });
    // The close event may fire before anyone waits for it: remember it per core channel.
    const closeInfo = new WeakMap<CoreChannel, CloseEventInfo>();
    const remember = (ch: CoreChannel) => ch.on("close", (info) => closeInfo.set(ch, info));
    remember(current);

    const failureOf = (info: CloseEventInfo): WireError | undefined => (info.error || info.code !== 1000 ? fromClose(info) : undefined);

    if (!driven) {
      yield* FiberSet.run(fibers, counted(Effect.flatMap(closeOf(current), (info) => ending(closing ? undefined : failureOf(info)))));
    } else {
      /** One connection: open a core channel and wait for it to open (fails if it closes first), then for its close. */
      const untilOpen = Effect.suspend(() => {
        if (current.readyState === CLOSED) remember((current = open()));
        const ch = current;
        return Effect.callback<void, WireError>((resume) => {
          if (ch.readyState === OPEN) return resume(Effect.void);
          const offOpen = ch.on("open", () => resume(Effect.void));
          const offClose = ch.on("close", (info) => resume(Effect.fail(failureOf(info) ?? fromClose(info))));
          return Effect.sync(() => {
            offOpen();
            offClose();
          });
        });
      });
      const reconnectable = (e: WireError) => (e.closeCode === undefined ? e._tag === "ConnectionLostError" || e._tag === "RateLimitedError" : closeReconnects(e.closeCode));
      // After a loss the schedule's first delay comes before the first reconnect: the loss is
      // fed to the schedule as a failed attempt (its input), then attempts open channels.
      let lost: WireError | undefined;
      const attempt = Effect.suspend(() => {
        const error = lost;
        lost = undefined;
        return error ? Effect.fail(error) : untilOpen;
      });
      const policy = reconnect === false ? untilOpen : Effect.retry(attempt, { schedule: reconnect, while: reconnectable });
      const supervise: Effect.Effect<void> = Effect.gen(function* () {
        for (;;) {
          const opened = yield* Effect.result(policy);
          if (opened._tag === "Failure") return yield* ending(opened.failure);
          const info = yield* closeOf(current);
          const error = failureOf(info);
          if (closing || !error) return yield* ending();
          if (reconnect === false || !reconnectable(error)) return yield* ending(error);
          // (the core channel already reported the loss on `errors`)
          yield* SubscriptionRef.set(state, CONNECTING);
          lost = error;
        }
      });
      yield* FiberSet.run(fibers, counted(supervise));
    }

    if (climb) {
      const first = (options.transports ?? ["sse", "websocket", "long-poll"])[0]!;
      const preferred = typeof first === "string" ? first : first.name;
      const attempt = Effect.suspend(() =>
        current.readyState === OPEN && current.transport !== preferred
          ? Effect.ignore(Effect.tryPromise(() => current.switchTransport(preferred)))
          : Effect.void,
      );
      yield* FiberSet.run(fibers, counted(Effect.repeat(attempt, climb)));
    }

    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        closing = true;
        return ending();
      }),
    );

    const deliveries = fromListener<Delivery, WireError>(lifetime, (emit) => relay.onDelivery(emit));
    const messages = Stream.filterMap(deliveries, (d) => (d.kind === "message" ? Result.succeed(d.message) : Result.fail(d)));
    const whenOpen = SubscriptionRef.changes(state).pipe(
      Stream.filter((s) => s !== CONNECTING),
      Stream.take(1),
      Stream.runDrain,
    );

    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_OPTIONS.connectTimeoutMs;
    const sendWait = Effect.timeoutOrElse(whenOpen, {
      duration: connectTimeoutMs,
      orElse: () =>
        Effect.fail(new ConnectionLostError({ code: "TL_SEND_FAILED", message: `Throughline: not reconnected within ${connectTimeoutMs} ms; the data was not sent.` })),
    });

    const channel: Channel = {
      url,
      core: () => current,
      state,
      transport,
      deliveries,
      messages,
      event: (name) => Stream.filter(messages, (m) => m.event === name),
      topic: ((t: string | Topic.AnyTopic, o?: { readonly onMismatch?: OnMismatch }) => {
        if (typeof t === "string") return Stream.filter(messages, (m) => m.topic === t);
        const mine = Stream.filter(messages, (m) => m.topic === t.name);
        return decodeEach(mine, o?.onMismatch ?? "fail", (m) => Effect.map(Topic.decode(t, m.data, m.id), (data) => ({ ...m, data })));
      }) as Channel["topic"],
      gaps: Stream.filterMap(deliveries, (d) => (d.kind === "gap" ? Result.succeed(d.gap) : Result.fail(d))),
      transportChanges: fromListener<TransportChange, WireError>(lifetime, (emit) => relay.onTransport(emit)),
      errors: fromListener<WireError, WireError>(lifetime, (emit) => relay.onError(emit)),
      // Between two core channels of a driven reconnect there is nothing to send on: wait for the
      // next open, at most `connectTimeoutMs` (like the core's send while connecting).
      send: (data) =>
        Effect.suspend(() => (driven && current.readyState === CLOSED && ended === null ? sendWait : Effect.void)).pipe(
          Effect.andThen(Effect.tryPromise({ try: () => current.send(data), catch: fromThroughlineError })),
        ),
      switchTransport: (name) => Effect.tryPromise({ try: () => current.switchTransport(name), catch: fromThroughlineError }),
      cursor: Effect.sync(() => cursor),
      closed: Effect.callback<WireError | undefined>((resume) => {
        if (ended !== null) return resume(Effect.succeed(ended));
        const w = (e: WireError | undefined) => resume(Effect.succeed(e));
        endWaiters.add(w);
        return Effect.sync(() => void endWaiters.delete(w));
      }),
    };
    return channel;
  });
