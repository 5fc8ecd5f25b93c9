/**
 * The events the facade dispatches: `MessageEvent`s as the standard's, and an `error` event that
 * also says why (a stable code, the error, and for a gap the gap itself).
 */
import type { ErrorCode, GapFrame, ThroughlineError } from "@throughline/wire";

/**
 * The `error` event. A native `EventSource` fires a bare `Event`; this one is an `Event` too (so
 * code written for the native one works) and carries what happened.
 */
export class EventSourceErrorEvent extends Event {
  /** The stable code (see the README's table), e.g. `TL_CONNECTION_LOST`, `TL_HTTP_STATUS`, `TL_GAP`. */
  readonly code: ErrorCode | undefined;
  readonly error: ThroughlineError | undefined;
  /** For `TL_GAP`: the topic and reason; refetch that topic's state. */
  readonly gap: GapFrame | undefined;

  constructor(error?: ThroughlineError, gap?: GapFrame) {
    super("error");
    this.code = error?.code;
    this.error = error;
    this.gap = gap;
  }
}

/** A `MessageEvent` as the standard's EventSource dispatches it (§9.2.6 "dispatch the event"). */
export function messageEvent(type: string, data: string, lastEventId: string, origin: string): MessageEvent<string> {
  return new MessageEvent(type, { data, lastEventId, origin });
}
