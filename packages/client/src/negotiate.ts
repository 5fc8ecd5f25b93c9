/**
 * Staggered racing (Happy Eyeballs, RFC 8305) over transport candidates: start the first; if it
 * is not proven after `staggerMs`, start the next in parallel (at once if the previous failed);
 * the first proven wins and the others are cancelled. A rejection by the application (marked
 * 401/403, a non-reconnecting close) ends the race at once: no other transport can help, and
 * trying them all would be a request storm.
 */
import type { TransportName } from "@throughline/wire";
import type { Clock } from "./options.js";
import type { Candidate, ProofResult } from "./probe.js";
import type { CloseInfo } from "./transport.js";

export type RaceResult =
  | { readonly kind: "won"; readonly _candidate: Candidate }
  /** The race was stopped from outside (the channel closed). */
  | { readonly kind: "cancelled" }
  /** The server refused in a way no transport or retry can fix. */
  | { readonly kind: "rejected"; readonly info: CloseInfo }
  /** The server does not know the session: drop it and start over at once. */
  | { readonly kind: "new-session" }
  | { readonly kind: "failed"; readonly failures: readonly Extract<ProofResult, { ok: false }>[] };

/** A running race; `cancel()` stops it and every candidate. */
export interface Race {
  readonly result: Promise<RaceResult>;
  cancel(): void;
}

/** Runs a staggered race over `order`; `open` starts one candidate. */
export function race(order: readonly TransportName[], open: (name: TransportName) => Candidate, staggerMs: number, clock: Clock): Race {
  const live = new Set<Candidate>();
  const failures: Extract<ProofResult, { ok: false }>[] = [];
  let next = 0;
  let done = false;
  let timer: unknown;
  let resolve!: (r: RaceResult) => void;
  const result = new Promise<RaceResult>((r) => (resolve = r));

  // (Clearing a timer that already ran or was cleared is a no-op: the handle can stay.)
  const stopTimer = () => {
    if (timer !== undefined) clock.clearTimeout(timer);
  };

  const finish = (r: RaceResult) => {
    if (done) return;
    done = true;
    stopTimer();
    const winner = r.kind === "won" ? r._candidate : undefined;
    // (Each candidate leaves `live` as its result settles: no clear() needed.)
    for (const c of live) if (c !== winner) c.cancel();
    resolve(r);
  };

  const startNext = () => {
    stopTimer();
    if (done) return;
    if (next >= order.length) {
      if (live.size === 0) finish({ kind: "failed", failures });
      return;
    }
    const c = open(order[next++]!);
    live.add(c);
    c.result.then((r) => {
      live.delete(c);
      if (done) {
        if (r.ok) c.cancel();
        return;
      }
      if (r.ok) return finish({ kind: "won", _candidate: c });
      if (r.outcome === "rejected") return finish({ kind: "rejected", info: r.info });
      if (r.info.code === 4404) return finish({ kind: "new-session" });
      if (r.outcome !== "cancelled") failures.push(r);
      // A failure frees its slot at once (RFC 8305 §5): no need to wait out the stagger.
      startNext();
    }, () => {});
    if (next < order.length) timer = clock.setTimeout(startNext, staggerMs);
  };

  queueMicrotask(startNext);
  return {
    result,
    cancel: () => finish({ kind: "cancelled" }),
  };
}
