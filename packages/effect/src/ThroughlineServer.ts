/**
 * The Throughline server as an Effect service: acquired in a `Scope` (closing it closes every
 * connection with 1001 GOING_AWAY, so clients resume elsewhere), mounted on the `node:http`
 * server the application provides, publishing as an `Effect` with tagged errors, client→server
 * messages and session starts/ends as `Stream`s, and `authenticate`/`authorize` as Effects that
 * may use the application's own services.
 *
 * @since 0.1.0
 */
import type { Server as HttpServer } from "node:http";
import * as Context from "effect/Context";
import * as Effect from "effect/Effect";
import * as FiberSet from "effect/FiberSet";
import * as Layer from "effect/Layer";
import type * as Scope from "effect/Scope";
import * as Stream from "effect/Stream";
import * as Schema from "effect/Schema";
import {
  AUTH_CALLBACK_TIMEOUT_MS,
  createServer,
  type PublishOptions,
  type ServerOptions as CoreServerOptions,
  type ServerRequest,
  type Session,
  type ThroughlineServer as CoreServer,
} from "@throughline/server";
import { fromThroughlineError, type InvalidInputError, type SchemaMismatchError, type TooBigError, type WireError } from "./Errors.js";
import { fromListener, Lifetime } from "./internal/events.js";
import { decodeEach, type OnMismatch } from "./internal/decode.js";
import * as Topic from "./Topic.js";

/**
 * Options of `make`/`layer`: every core option (`ServerOptions` of `@throughline/server`)
 * except the callbacks, which become Effects here.
 * @since 0.1.0 @category models
 */
export interface ServerOptions<R = never> extends Omit<CoreServerOptions, "authenticate" | "authorize" | "onMessage"> {
  /**
   * Mounts the server on this `node:http` server (requests under `path` are Throughline's, the
   * rest keep going to the server's own listeners). The http server stays the application's:
   * closing the scope closes Throughline, not it. @default undefined (mount it yourself with
   * `handle`/`handleUpgrade`)
   */
  readonly attach?: HttpServer | undefined;
  /**
   * Who a request is: succeed with the user (anything but `null`/`undefined`/`false`), or an
   * `AuthResult` `{ user, expiresAt }`. A failure, `null`, or not finishing within 10 s → 401.
   * May use the application's services (`R`). @default undefined (everyone is anonymous)
   */
  readonly authenticate?: ((req: ServerRequest) => Effect.Effect<unknown, unknown, R>) | undefined;
  /** Whether `user` may receive `topic` (`"*"`: all). Anything but `true`, or a failure → 403. @default undefined (all allowed) */
  readonly authorize?: ((user: unknown, topic: string, req: ServerRequest) => Effect.Effect<boolean, unknown, R>) | undefined;
  /**
   * Topics whose data is checked on publish: `publish("name", data)` encodes `data` with the
   * named topic's schema as `publish(topic, data)` does. @default [] (string publishes unchecked)
   */
  readonly topics?: ReadonlyArray<Topic.AnyTopic> | undefined;
}

/** A client→server message and who sent it. @since 0.1.0 @category models */
export interface Incoming<A = unknown> {
  readonly data: A;
  readonly session: Session;
}

/** Why a publish can fail. @since 0.1.0 @category models */
export type PublishError = InvalidInputError | TooBigError | SchemaMismatchError;

/**
 * The service.
 * @since 0.1.0 @category models
 */
export interface Service {
  /** The core server, for what this face does not wrap (diagnostics, `getSession`). */
  readonly core: CoreServer;
  readonly path: string;
  readonly epoch: string;
  /**
   * Publishes `data` on `topic` (a `Topic`: encoded with its schema first; a string: checked
   * with a `topics` option schema of that name, if any). Succeeds with the message id.
   */
  publish<T extends Topic.AnyTopic>(topic: T, data: Topic.TypeOf<T>, options?: PublishOptions): Effect.Effect<string, PublishError>;
  publish(topic: string, data: unknown, options?: PublishOptions): Effect.Effect<string, PublishError>;
  /** Client→server messages, from the moment the stream runs until the server closes. */
  readonly messages: Stream.Stream<Incoming>;
  /**
   * Client→server messages decoded with `schema`. A message that does not match ends the
   * stream with `SchemaMismatchError` (`onMismatch: "fail"`, the default) or is skipped ("skip").
   */
  messagesOf<S extends Schema.Codec<any, any, never, never>>(schema: S, options?: { readonly onMismatch?: OnMismatch }): Stream.Stream<Incoming<S["Type"]>, SchemaMismatchError>;
  /** Sessions as they start. */
  readonly sessions: Stream.Stream<Session>;
  /** Sessions as they end (closed, expired, or the server closing). */
  readonly sessionEnds: Stream.Stream<Session>;
  /** For frameworks: `handle(req, res, next)` of the core server. */
  readonly handle: CoreServer["handle"];
  /** For frameworks: `handleUpgrade(req, socket, head)` of the core server. */
  readonly handleUpgrade: CoreServer["handleUpgrade"];
}

/**
 * The service's tag.
 * @since 0.1.0 @category tags
 */
export class ThroughlineServer extends Context.Service<ThroughlineServer, Service>()("@throughline/effect/ThroughlineServer") {}

/**
 * Acquires a server in the current `Scope`: closing the scope closes it gracefully (1001 to
 * every client, ending every stream of this service). Invalid options fail with
 * `InvalidInputError` naming the option.
 * @since 0.1.0 @category constructors
 */
export const make = <R = never>(options: ServerOptions<R> = {}): Effect.Effect<Service, InvalidInputError, Scope.Scope | R> =>
  Effect.gen(function* () {
    // Callbacks run as fibers of this scope, with the caller's services: closing the server
    // interrupts any still running (an authentication that hangs cannot outlive it).
    const run = yield* FiberSet.makeRuntimePromise<R>();
    const bounded = <A>(effect: Effect.Effect<A, unknown, R>) =>
      run(Effect.timeoutOrElse(effect, { duration: AUTH_CALLBACK_TIMEOUT_MS, orElse: () => Effect.fail("timeout") }));
    const { attach, authenticate, authorize, topics, ...core } = options;
    const coreOptions: CoreServerOptions = { ...core };
    if (authenticate) coreOptions.authenticate = (req) => bounded(authenticate(req));
    if (authorize) coreOptions.authorize = (user, topic, req) => bounded(authorize(user, topic, req));
    const schemas = new Map<string, Topic.AnyTopic>((topics ?? []).map((t) => [t.name, t]));

    const lifetime = new Lifetime<never>();
    const rt = yield* Effect.acquireRelease(
      Effect.try({ try: () => createServer(coreOptions), catch: (e) => fromThroughlineError(e) as InvalidInputError }),
      (server) =>
        Effect.promise(() => server.close()).pipe(
          // Streams end after the close, so consumers see the last sessions end first.
          Effect.ensuring(Effect.sync(() => lifetime.end())),
        ),
    );
    if (attach) yield* Effect.try({ try: () => rt.attach(attach), catch: (e) => fromThroughlineError(e) as InvalidInputError });

    const publishRaw = (topic: string, data: unknown, opts?: PublishOptions): Effect.Effect<string, PublishError> =>
      Effect.try({ try: () => rt.publish(topic, data, opts), catch: (e) => fromThroughlineError(e) as PublishError });

    const publish = (topic: string | Topic.AnyTopic, data: unknown, opts?: PublishOptions): Effect.Effect<string, PublishError> => {
      const def = typeof topic === "string" ? schemas.get(topic) : topic;
      const name = typeof topic === "string" ? topic : topic.name;
      if (!def) return publishRaw(name, data, opts);
      return Effect.flatMap(Topic.encode(def, data), (encoded) => publishRaw(name, encoded, opts));
    };

    const messages = fromListener<Incoming, never>(lifetime, (emit) => rt.on("message", (data, session) => emit({ data, session })));
    const service: Service = {
      core: rt,
      path: rt.path,
      epoch: rt.epoch,
      publish: publish as Service["publish"],
      messages,
      messagesOf: (schema, o) =>
        decodeEach(messages, o?.onMismatch ?? "fail", (m) =>
          Effect.map(
            Topic.decode({ name: "(client→server)", schema }, m.data, m.session.id),
            (data) => ({ data, session: m.session }),
          ),
        ),
      sessions: fromListener<Session, never>(lifetime, (emit) => rt.on("session", emit)),
      sessionEnds: fromListener<Session, never>(lifetime, (emit) => rt.on("sessionEnd", emit)),
      handle: rt.handle.bind(rt),
      handleUpgrade: rt.handleUpgrade.bind(rt),
    };
    return service;
  });

/**
 * A layer providing `ThroughlineServer`, built by `make`: the server lives as long as the layer.
 * @since 0.1.0 @category layers
 */
export const layer = <R = never>(options: ServerOptions<R> = {}): Layer.Layer<ThroughlineServer, InvalidInputError, R> =>
  Layer.effect(ThroughlineServer, make(options));

/**
 * Publishes through the service in the context.
 * @since 0.1.0 @category accessors
 */
export function publish<T extends Topic.AnyTopic>(topic: T, data: Topic.TypeOf<T>, options?: PublishOptions): Effect.Effect<string, PublishError, ThroughlineServer>;
export function publish(topic: string, data: unknown, options?: PublishOptions): Effect.Effect<string, PublishError, ThroughlineServer>;
export function publish(topic: string | Topic.AnyTopic, data: unknown, options?: PublishOptions): Effect.Effect<string, PublishError, ThroughlineServer> {
  return ThroughlineServer.use((s) => s.publish(topic as string, data, options));
}

/** Every wire error a server operation can fail with. @since 0.1.0 @category models */
export type ServerError = WireError;
