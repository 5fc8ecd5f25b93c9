/**
 * Decoding a stream element by element with a topic's schema, where a mismatch is the user's
 * choice: end the stream with the tagged error ("fail") or drop the element ("skip"). Never a
 * defect: a peer sending bad data must not crash the consumer's fiber.
 */
import * as Effect from "effect/Effect";
import * as Option from "effect/Option";
import * as Stream from "effect/Stream";
import type { SchemaMismatchError } from "../Errors.js";

/**
 * What a stream does with an element its schema rejects: "fail" ends it with
 * `SchemaMismatchError` (catch it with `Stream.catchTag`), "skip" drops the element.
 * @default "fail"
 */
export type OnMismatch = "fail" | "skip";

export function decodeEach<A, B, E, R>(
  stream: Stream.Stream<A, E, R>,
  onMismatch: OnMismatch,
  decode: (a: A) => Effect.Effect<B, SchemaMismatchError>,
): Stream.Stream<B, E | SchemaMismatchError, R> {
  if (onMismatch === "fail") return Stream.mapEffect(stream, decode);
  const decoded = Stream.filter(Stream.mapEffect(stream, (a) => Effect.option(decode(a))), Option.isSome);
  return Stream.map(decoded, (o) => o.value);
}
