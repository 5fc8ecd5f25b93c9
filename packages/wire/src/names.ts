import { CONTROL_EVENT_PREFIX, RESERVED_EVENTS } from "./frames.js";
import { ThroughlineError, httpError } from "./errors.js";

/** Topic names: 1–128 of [A-Za-z0-9_.:/-]. `"*"` alone subscribes to every topic. */
const TOPIC_RE = /^[A-Za-z0-9_.:/-]{1,128}$/;
export const ALL_TOPICS = "*";
/** Upper bound of topics one connection may name in its query. */
export const MAX_TOPICS_PER_CONNECTION = 256;

export function isTopic(value: string): boolean {
  return TOPIC_RE.test(value);
}

/**
 * Parses the `topics` query value (comma separated). Missing or empty means all topics.
 * @throws ThroughlineError TL_BAD_TOPIC (status 400)
 */
export function parseTopics(value: string | null | undefined, max = MAX_TOPICS_PER_CONNECTION): string[] {
  if (value == null || value === "" || value === ALL_TOPICS) return [ALL_TOPICS];
  const topics = [...new Set(value.split(","))];
  if (topics.length > max) throw httpError("TL_BAD_TOPIC", `too many topics (${topics.length} > ${max}).`);
  for (const t of topics) {
    if (!isTopic(t)) throw httpError("TL_BAD_TOPIC", `invalid topic name ${JSON.stringify(t.slice(0, 40))}.`);
  }
  return topics;
}

export function formatTopics(topics: readonly string[] | undefined): string {
  return topics && topics.length > 0 ? topics.join(",") : ALL_TOPICS;
}

/**
 * Event names: 1–128 characters without control characters, not reserved by the client's
 * lifecycle events and not starting with `tl:` (control frames).
 * @throws ThroughlineError TL_BAD_EVENT
 */
export function assertEventName(event: string): void {
  // eslint-disable-next-line no-control-regex
  // Lone surrogates are refused too: SSE writes names as raw UTF-8, where they would become U+FFFD.
  if (typeof event !== "string" || event.length === 0 || event.length > 128 || /[\u0000-\u001f\u007f]|\p{Cs}/u.test(event)) {
    throw new ThroughlineError("TL_BAD_EVENT", `invalid event name ${JSON.stringify(String(event).slice(0, 40))}: use 1–128 printable characters.`);
  }
  if (RESERVED_EVENTS.has(event) || event.startsWith(CONTROL_EVENT_PREFIX)) {
    throw new ThroughlineError("TL_BAD_EVENT", `event name "${event}" is reserved; pick another (reserved: ${[...RESERVED_EVENTS].join(", ")}, and names starting with "${CONTROL_EVENT_PREFIX}").`);
  }
}

/**
 * @throws ThroughlineError TL_BAD_TOPIC
 */
export function assertTopic(topic: string): void {
  if (typeof topic !== "string" || !isTopic(topic)) {
    throw new ThroughlineError("TL_BAD_TOPIC", `invalid topic name ${JSON.stringify(String(topic).slice(0, 40))}: use 1–128 of [A-Za-z0-9_.:/-].`);
  }
}
