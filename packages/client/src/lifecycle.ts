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
import { CLOSED, CONNECTING, OPEN, type ReadyState } from "./api.js";
import { backoffDelay } from "./backoff.js";

/** The backoff wait between connect rounds (the channel's readyState is `CONNECTING` then). */
export const WAITING = 3;
/**
 * A phase is a number: `CONNECTING`, `OPEN` and `CLOSED` are the readyStates of the same name
 * (so `readyState` is the phase, with `WAITING` read as `CONNECTING`), `WAITING` is the fourth.
 * Numbers rather than names: the phases never leave the client, and names would be bundle bytes.
 */
export type Phase = ReadyState | typeof WAITING;

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
export const NONE = 0;
export const START_ROUND = 1;
export const ARM_WAIT = 2;
export const DROP_LINK = 3;
export const FINISH = 4;
/** Numbers, like the phases: effects never leave the client. */
export type LifecycleEffect = typeof NONE | typeof START_ROUND | typeof ARM_WAIT | typeof DROP_LINK | typeof FINISH;

/** A link open at least this long before a cut counts as healthy: it is resumed without waiting. */
export const HEALTHY_MS = 1_000;

/** A state (frozen by nobody: each transition makes a new one). */
export const state = (phase: Phase, failures: number, offline: boolean, waitMs?: number): LifecycleState => ({ phase, failures, offline, waitMs });

/** A new channel's state, online. */
export const INITIAL: LifecycleState = /* @__PURE__ */ Object.freeze(/* @__PURE__ */ state(CONNECTING, 0, false));

/**
 * The one transition function: `[next state, effect]`. `closed` absorbs every event. The backoff
 * policy: its bounds and a random source (injectable for tests).
 */
export function transition(s: LifecycleState, e: LifecycleEvent, baseMs: number, maxMs: number, random?: () => number): readonly [LifecycleState, LifecycleEffect] {
  const { phase, failures, offline } = s;
  const t = e.type;
  const wait = (): LifecycleState =>
    // Offline: no timer, an attempt could only fail; `online` ends the wait.
    state(WAITING, failures + 1, offline, offline ? undefined : backoffDelay(failures, baseMs, maxMs, random));
  if (phase === CLOSED) return [s, NONE];
  if (t === "close") return [state(CLOSED, failures, offline), FINISH];
  if (phase === CONNECTING) {
    if (t === "opened") return [state(OPEN, 0, offline), NONE];
    if (t === "round-failed") return [wait(), ARM_WAIT];
    if (t === "offline" || t === "online") return [state(phase, failures, t === "offline"), NONE];
  } else if (phase === OPEN) {
    if (t === "lost") {
      return !offline && !e.serverClose && e.openMs >= HEALTHY_MS ? [state(CONNECTING, 0, false), START_ROUND] : [wait(), ARM_WAIT];
    }
    // An open link cannot work offline: drop it and wait for `online`.
    if (t === "offline") return [state(WAITING, failures, true), DROP_LINK];
  } else {
    if (t === "wake") return [state(CONNECTING, failures, offline), START_ROUND];
    // Back online: the failures were the network's, not the server's; try at once.
    if (t === "online") return [state(CONNECTING, 0, false), START_ROUND];
    if (t === "offline") return [state(phase, failures, true), ARM_WAIT];
  }
  return [s, NONE];
}
