/**
 * Internal entry for sibling packages (`@throughline/doctor`): the negotiator's proof of one
 * transport and the transports themselves, so the doctor judges a network with exactly the
 * rules the client uses to pick a transport. Not a stable API: it follows the client's version.
 */
export { classifyClose, openCandidate } from "./probe.js";
export type { AdoptedHandlers, Candidate, ProofResult, ProofSettings } from "./probe.js";
export type { ClientTransport, CloseInfo, ProofRule, Transport, TransportContext, TransportFactory, TransportHandlers } from "./transport.js";
export { longPoll, longPollTransport } from "./transports/long-poll.js";
export { SSE_MIN_GAP_MS, sse, sseTransport } from "./transports/sse.js";
export { WS_PROBE_SEQ, webSocketTransport, websocket } from "./transports/websocket.js";
