/**
 * What the hub and the session registry need of a connection, whatever its transport.
 */
import type { TransportName } from "@throughline/wire";
import type { Envelope } from "./envelope.js";
import type { Heartbeat } from "./heartbeat.js";
import type { SessionImpl } from "./session.js";

export interface Connection {
  readonly transport: TransportName;
  readonly session: SessionImpl;
  /** The topics it subscribed to (`["*"]`: all). */
  readonly topics: readonly string[];
  /** True once closed (by either side); a closed connection ignores deliveries. */
  readonly closed: boolean;
  /** Writes a published message (already known to match `topics`). */
  deliver(envelope: Envelope): void;
  /** Streaming transports write a heartbeat; long-poll answers held polls on its own timer. */
  heartbeat(beat: Heartbeat): void;
  /** Server-initiated close: writes a `close` frame with `code`, then ends the connection. */
  close(code: number, reason: string): void;
  /**
   * Its session ended (`expired`: by its TTL, nobody left to tell). Transports that keep state
   * between requests decide what that means; `close(code, reason)` otherwise.
   */
  end?(code: number, reason: string, expired: boolean): void;
}
