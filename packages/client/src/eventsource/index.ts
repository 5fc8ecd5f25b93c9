export { EventSource } from "./event-source.js";
export { EventSource as ThroughlineEventSource } from "./event-source.js";
export { EventSourceErrorEvent } from "./events.js";
export { DEFAULT_EVENT_SOURCE_OPTIONS } from "./options.js";
export type { EventSourceInit, EventSourceProtocol } from "./options.js";
export { isEventStream } from "./plain.js";
