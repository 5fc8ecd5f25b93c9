/**
 * One proxied exchange: a request and its response, or a WebSocket tunnel. It owns the timers and
 * resources its stages create, and knows how to abort both sides, so a cut is one call.
 */
import type { Socket } from "node:net";
import { TimerSet, type Timer } from "./clock.js";
import type { RequestHead } from "./events.js";
import type { Clock } from "./types.js";

/** Mutable counters behind `HostileProxy.stats`. */
export interface StatsCounters {
  requests: number;
  upgrades: number;
  cuts: number;
}

export type ExchangeKind = "http" | "upgrade";

/** Aborts a TCP connection: RST where the platform allows, else a plain destroy. */
export function abortSocket(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    // An RST (not a FIN) is what a middlebox timing out or a NAT dropping state produces.
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

export class Exchange {
  readonly timers: TimerSet;
  private readonly activity = new Set<() => void>();
  private readonly disposers: Array<() => void> = [];
  private upstreamDestroy: (() => void) | undefined;
  private dropped = false;
  private finished = false;

  constructor(
    readonly kind: ExchangeKind,
    readonly request: RequestHead,
    readonly client: Socket,
    readonly clock: Clock,
    readonly random: () => number,
    private readonly stats: StatsCounters,
    private readonly onFinish: (ex: Exchange) => void,
  ) {
    this.timers = new TimerSet(clock);
  }

  get done(): boolean {
    return this.finished;
  }

  /** Sets a timer that dies with the exchange. */
  setTimer(fn: () => void, ms: number): Timer {
    return this.timers.set(() => {
      if (!this.finished) fn();
    }, ms);
  }

  /** Records traffic in either direction (for cut-idle). */
  touch(): void {
    for (const fn of this.activity) fn();
  }

  onActivity(fn: () => void): void {
    this.activity.add(fn);
  }

  /** Registers cleanup (a zlib stream, a queue) run once when the exchange ends in any way. */
  onDispose(fn: () => void): void {
    if (this.finished) fn();
    else this.disposers.push(fn);
  }

  /** How to tear down the upstream side (request or socket). */
  setUpstream(destroy: () => void): void {
    this.upstreamDestroy = destroy;
    if (this.finished) destroy();
  }

  /** Whether the upstream side was torn down on purpose (its close is then not a failure). */
  get upstreamDropped(): boolean {
    return this.dropped;
  }

  /** Drops the upstream side only (the proxy answers the client itself). */
  dropUpstream(): void {
    this.dropped = true;
    const destroy = this.upstreamDestroy;
    this.upstreamDestroy = undefined;
    destroy?.();
  }

  /** A deliberate abort of both sides, counted in `stats.cuts`. */
  cut(): void {
    if (this.finished) return;
    this.stats.cuts++;
    abortSocket(this.client);
    this.dropUpstream();
    this.finish();
  }

  /** Tears down both sides without counting a cut (upstream failure, proxy close). */
  abort(): void {
    if (this.finished) return;
    this.client.destroy();
    this.dropUpstream();
    this.finish();
  }

  /** Ends the exchange: clears timers, runs disposers. Idempotent. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.timers.close();
    this.activity.clear();
    for (const fn of this.disposers.splice(0)) {
      try {
        fn();
      } catch {
        // Cleanup must never throw into socket callbacks; the resource is gone either way.
      }
    }
    this.onFinish(this);
  }
}
