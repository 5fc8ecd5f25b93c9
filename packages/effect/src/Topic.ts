/**
 * A topic with the `Schema` of its data, shared by server and client: the server encodes (and
 * so validates) what it publishes, the client decodes what it receives. One value, both sides,
 * so the two cannot drift apart.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect";
import * as Schema from "effect/Schema";
import { assertTopic } from "@throughline/wire";
import { SchemaMismatchError } from "./Errors.js";

/**
 * A named topic whose data is described by `schema` (its `Encoded` side is what travels as
 * JSON). Schemas that need services to encode or decode are not supported: a topic is used from
 * plain callbacks of the core server and client.
 * @since 0.1.0 @category models
 */
export interface Topic<S extends Schema.Codec<any, any, never, never>> {
  readonly name: string;
  readonly schema: S;
}

/** Any topic. @since 0.1.0 @category models */
export type AnyTopic = Topic<Schema.Codec<any, any, never, never>>;

/** The decoded type of a topic's data. @since 0.1.0 @category models */
export type TypeOf<T extends AnyTopic> = T["schema"]["Type"];

/**
 * A topic. The name is checked like the wire checks it (1–128 of `[A-Za-z0-9_.:/-]`).
 * @throws ThroughlineError TL_BAD_TOPIC (at definition time: a typo in code, not a runtime condition)
 * @since 0.1.0 @category constructors
 */
export function make<S extends Schema.Codec<any, any, never, never>>(name: string, schema: S): Topic<S> {
  assertTopic(name);
  return Object.freeze({ name, schema });
}

/**
 * Encodes `data` with the topic's schema (the JSON-ready `Encoded` form), or fails with a
 * `SchemaMismatchError` of direction "encode".
 * @since 0.1.0 @category codecs
 */
export const encode = <S extends Schema.Codec<any, any, never, never>>(topic: Topic<S>, data: unknown): Effect.Effect<S["Encoded"], SchemaMismatchError> =>
  Schema.encodeUnknownEffect(topic.schema)(data).pipe(
    Effect.mapError((cause) => new SchemaMismatchError({ direction: "encode", topic: topic.name, message: `Throughline: data for topic "${topic.name}" does not match its schema: ${cause.message}`, cause })),
  );

/**
 * Decodes received `data` with the topic's schema, or fails with a `SchemaMismatchError` of
 * direction "decode" naming the message id.
 * @since 0.1.0 @category codecs
 */
export const decode = <S extends Schema.Codec<any, any, never, never>>(topic: Topic<S>, data: unknown, id?: string): Effect.Effect<S["Type"], SchemaMismatchError> =>
  Schema.decodeUnknownEffect(topic.schema)(data).pipe(
    Effect.mapError((cause) => new SchemaMismatchError({ direction: "decode", topic: topic.name, id, message: `Throughline: message ${id ?? ""} of topic "${topic.name}" does not match its schema: ${cause.message}`, cause })),
  );
