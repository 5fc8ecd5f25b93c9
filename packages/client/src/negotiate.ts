/**
 * One round of connecting: try each transport in order until one says hello. Kept apart from the
 * channel so a smarter negotiator (probes, racing) can replace it without touching the state
 * machine.
 */
import { closeReconnects, type ThroughlineError, type TransportName } from "@throughline/wire";
import type { CloseInfo } from "./transport.js";

/** The outcome of one attempt: `null` if the channel was closed meanwhile. */
export type AttemptResult = { readonly ok: true } | { readonly ok: false; readonly info: CloseInfo } | null;

export type RoundResult =
  | { readonly kind: "open" }
  | { readonly kind: "closed" }
  /** The server refused in a way no transport or retry can fix. */
  | { readonly kind: "final"; readonly info: CloseInfo }
  /** The server does not know the session: drop it and start over at once. */
  | { readonly kind: "new-session" }
  | { readonly kind: "failed"; readonly errors: readonly ThroughlineError[] };

/** Tries the transports in order. `attempt` opens one and settles on hello, close or timeout. */
export async function negotiate(order: readonly TransportName[], attempt: (name: TransportName) => Promise<AttemptResult>): Promise<RoundResult> {
  const errors: ThroughlineError[] = [];
  for (const name of order) {
    const r = await attempt(name);
    if (r === null) return { kind: "closed" };
    if (r.ok) return { kind: "open" };
    const { info } = r;
    if (info.code === 4404) return { kind: "new-session" };
    if (info.fatal || !closeReconnects(info.code)) return { kind: "final", info };
    if (info.error) errors.push(info.error);
  }
  return { kind: "failed", errors };
}
