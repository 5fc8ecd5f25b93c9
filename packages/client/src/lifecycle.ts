/**
 * The connection lifecycle as one explicit state machine: named phases, named events, and every
 * transition in one reducer. Pure (no timers, no I/O): the channel feeds it events and performs
 * the returned effect; the one timer a phase owns (the backoff wait of `waiting`) is armed on
 * entry and cleared on every exit by the channel's runner, through the injectable clock.
 *
 * Reconnect rule (issue #10, "no gap at cuts"): a *healthy* link that is cut (it was open for at
 * least `HEALTHY_MS` and ended without a close code) is resumed at once — backoff is only for
 * *consecutive* failures, and then full-jitter, so a crowd that lost the same server stays spread.
 * A server's own close (going away, restart, overload) always backs off: that is the storm case.
 */
import { backoffDelay } from "./backoff.js";

export type Phase = "connecting" | "open" | "waiting" | "closed";

export type LifecycleEvent =
  /** A connect round's winner said hello. */
  | { readonly type: "opened" }
  /** The open link ended and may be resumed: how long it had been open, and whether the server closed it with a code. */
  | { readonly type: "lost"; readonly openMs: number; readonly serverClose: boolean }
  /** Every transport of a connect round failed. */
  | { readonly type: "round-failed" }
  /** The backoff wait of `waiting` ended. */
  | { readonly type: "wake" }
  /** Browsers: the network came back / went away. */
  | { readonly type: "online" }
  | { readonly type: "offline" }
  /** The application closed the channel, or something no retry can fix happened. */
  | { readonly type: "close" };

export interface LifecycleState {
  readonly phase: Phase;
  /** Consecutive failures since the last open: the backoff exponent. */
  readonly failures: number;
  /** `waiting`: how long (`undefined`: until `online`, the browser is offline). */
  readonly waitMs?: number | undefined;
  readonly offline: boolean;
}

/** What the channel must do after a transition. */
export type LifecycleEffect = "none" | "start-round" | "arm-wait" | "drop-link" | "finish";

/** The policy the reducer needs: backoff bounds and a random source (injectable for tests). */
export interface LifecyclePolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly random?: () => number;
}

/** A link open at least this long before a cut counts as healthy: it is resumed without waiting. */
export const HEALTHY_MS = 1_000;

export const INITIAL: LifecycleState = Object.freeze({ phase: "connecting", failures: 0, offline: false });

const wait = (s: LifecycleState, p: LifecyclePolicy): LifecycleState => ({
  phase: "waiting",
  failures: s.failures + 1,
  // Offline: no timer, an attempt could only fail; `online` ends the wait.
  waitMs: s.offline ? undefined : backoffDelay(s.failures, p.baseMs, p.maxMs, p.random),
  offline: s.offline,
});

/** The one transition function: `[next state, effect]`. `closed` absorbs every event. */
export function transition(s: LifecycleState, e: LifecycleEvent, p: LifecyclePolicy): readonly [LifecycleState, LifecycleEffect] {
  if (s.phase === "closed") return [s, "none"];
  if (e.type === "close") return [{ phase: "closed", failures: s.failures, offline: s.offline }, "finish"];
  switch (s.phase) {
    case "connecting":
      if (e.type === "opened") return [{ phase: "open", failures: 0, offline: s.offline }, "none"];
      if (e.type === "round-failed") return [wait(s, p), "arm-wait"];
      if (e.type === "offline" || e.type === "online") return [{ ...s, offline: e.type === "offline" }, "none"];
      return [s, "none"];
    case "open":
      if (e.type === "lost") {
        if (!s.offline && !e.serverClose && e.openMs >= HEALTHY_MS) return [{ phase: "connecting", failures: 0, offline: false }, "start-round"];
        return [wait(s, p), "arm-wait"];
      }
      // An open link cannot work offline: drop it and wait for `online`.
      if (e.type === "offline") return [{ phase: "waiting", failures: s.failures, waitMs: undefined, offline: true }, "drop-link"];
      return [s, "none"];
    case "waiting":
      if (e.type === "wake") return [{ phase: "connecting", failures: s.failures, offline: s.offline }, "start-round"];
      // Back online: the failures were the network's, not the server's; try at once.
      if (e.type === "online") return [{ phase: "connecting", failures: 0, offline: false }, "start-round"];
      if (e.type === "offline") return [{ ...s, waitMs: undefined, offline: true }, "arm-wait"];
      return [s, "none"];
  }
}
