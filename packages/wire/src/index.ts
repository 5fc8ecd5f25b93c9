export type {
  ClientFrame,
  CloseFrame,
  ControlFrame,
  GapFrame,
  GapReason,
  HeartbeatFrame,
  HelloFrame,
  Message,
  MessageFrame,
  ProbeFrame,
  ServerFrame,
  TransportName,
} from "./frames.js";
export { CONTROL_EVENT_PREFIX, RESERVED_EVENTS, TRANSPORTS } from "./frames.js";
export type { CloseCodeInfo, ErrorCodeInfo } from "./codes.js";
export { CLOSE_CODES, ERROR_CODES, closeCodeInfo, errorCodeInfo } from "./codes.js";
export type { CloseCodeName } from "./close-codes.js";
export { CloseCode, closeCodeName, closeReconnects } from "./close-codes.js";
export type { ErrorCode } from "./error-codes.js";
export { ERROR_CLOSE, ERROR_STATUS, closeCodeOf, isErrorCode, reconnectsAfter, statusOf } from "./error-codes.js";
export type { ThroughlineErrorOptions } from "./errors.js";
export { ThroughlineError, httpError, isThroughlineError } from "./errors.js";
export type { ParsedId } from "./ids.js";
export { formatId, isEpoch, isSessionId, newEpoch, newSessionId, parseId } from "./ids.js";
export { ALL_TOPICS, MAX_TOPICS_PER_CONNECTION, assertEventName, assertTopic, formatTopics, isTopic, parseTopics } from "./names.js";
export { LAST_EVENT_ID_HEADER, MARKER_HEADER, MARKER_VALUE, MIN_PROPOSED_SESSION_CHARS, QUERY, ROUTES, buildUrl, toWebSocketUrl } from "./routes.js";
export { asServerFrame, decodeClientFrames, decodePollBatch, decodeServerFrame, encodeFrame, encodePollBatch, isTransportName } from "./json.js";
export type { SseEvent, SseFrameDecoderCallbacks, SseParser, SseParserCallbacks } from "./sse.js";
export {
  createSseFrameDecoder,
  createSseFrameReader,
  createSseParser,
  encodeSseControl,
  encodeSseEvent,
  encodeSseHeartbeat,
  encodeSseMessage,
  encodeSsePadding,
  sseEventToFrame,
} from "./sse.js";
export { checkOptionNames, optionNames } from "./option-names.js";
export { DEV } from "./dev.js";
export type { Clock } from "./clock.js";
export { SYSTEM_CLOCK } from "./clock.js";
