/**
 * The backplane contract lives in `@throughline/server` (the hub consumes it); re-exported here so
 * this package's modules and users import it from one place.
 */
export type {
  Backplane,
  BackplaneGap,
  BackplaneGapReason,
  BackplaneListener,
  BackplaneMessage,
  BackplanePosition,
  HistoryRead,
  SessionStore,
  CounterSlot,
  SharedCounters,
  SharedSession,
  TicketStore,
} from "@throughline/server";
