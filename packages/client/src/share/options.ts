/** Options of `share()`: `connect()`'s, plus leader liveness and the platform objects it uses. */
import { DEV, ThroughlineError } from "@throughline/wire";
import type { ConnectOptions } from "../options.js";

/** The part of the Web Locks API `share()` uses (`navigator.locks`). */
export interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal; steal?: boolean }, callback: () => Promise<void> | undefined): Promise<unknown>;
}

export interface ShareOptions extends ConnectOptions {
  /**
   * How often the leader tab says it is alive, and how soon a follower that has not heard from
   * it asks (a `ping`, answered from a message handler, which background-tab timer throttling
   * does not delay). @default 1_000
   */
  beatMs?: number;
  /**
   * A leader that answers nothing for this long is taken to be frozen or hung: a follower steals
   * its Web Lock (`steal: true`) and takes over from its cursor. A real leader is never silent
   * this long, since pings are answered by an event handler. @default 5_000
   */
  stallMs?: number;
  /** Tabs with the same name share one connection. @default the url */
  name?: string;
  /** BroadcastChannel constructor. @default globalThis.BroadcastChannel */
  BroadcastChannel?: new (name: string) => BroadcastChannel;
  /** Web Locks. @default globalThis.navigator.locks */
  locks?: LockManagerLike;
  /**
   * URL of the shared-worker script (`dist/browser/share-worker.js`, served by your app from the
   * page's origin). Where `SharedWorker` exists, the worker holds the connection and no tab leads;
   * elsewhere (e.g. Chrome for Android) the Web Locks leader is used. Only the structured-cloneable
   * options reach the worker: `fetch`, `WebSocket`, `clock` and a transport `memory` are ignored
   * there; a `token` stays in the tabs (the worker asks them for it on every request).
   * @default undefined (Web Locks leader)
   */
  worker?: string | URL;
  /** SharedWorker constructor. @default globalThis.SharedWorker */
  SharedWorker?: new (url: string | URL, options?: { name?: string; type?: "classic" | "module" }) => SharedWorker;
}

/** Defaults of `share()`'s own options. */
export const DEFAULT_SHARE_OPTIONS = Object.freeze({ beatMs: 1_000, stallMs: 5_000 });

export interface ResolvedShare {
  readonly beatMs: number;
  readonly stallMs: number;
  readonly name: string | undefined;
  readonly BroadcastChannel: (new (name: string) => BroadcastChannel) | undefined;
  readonly locks: LockManagerLike | undefined;
  readonly worker: string | undefined;
  readonly SharedWorker: ShareOptions["SharedWorker"];
}

/** @throws ThroughlineError TL_INVALID_OPTION naming the option (and the one it conflicts with) */
export function resolveShare(o: ShareOptions): ResolvedShare {
  const beatMs = o.beatMs ?? DEFAULT_SHARE_OPTIONS.beatMs;
  const stallMs = o.stallMs ?? DEFAULT_SHARE_OPTIONS.stallMs;
  for (const [k, v] of [["beatMs", beatMs], ["stallMs", stallMs]] as const) {
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw new ThroughlineError("TL_INVALID_OPTION", DEV ? `share option ${k} must be a finite number > 0.` : k);
  }
  if (stallMs < 2 * beatMs) throw new ThroughlineError("TL_INVALID_OPTION", DEV ? `share option stallMs (${stallMs}) must be at least twice beatMs (${beatMs}).` : "stallMs");
  const g = globalThis as { BroadcastChannel?: new (name: string) => BroadcastChannel; navigator?: { locks?: LockManagerLike }; SharedWorker?: ShareOptions["SharedWorker"] };
  return {
    beatMs,
    stallMs,
    name: o.name,
    BroadcastChannel: o.BroadcastChannel ?? g.BroadcastChannel,
    locks: o.locks ?? g.navigator?.locks,
    worker: o.worker === undefined ? undefined : String(o.worker),
    SharedWorker: o.SharedWorker ?? g.SharedWorker,
  };
}
