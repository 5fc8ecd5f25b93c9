/**
 * Watch after connect: heartbeats carry the server's clock, so their arrival tells whether a
 * healthy stream turned bad. The offset `arrival − serverTime` includes clock skew and the
 * network delay; its minimum over the connection is the baseline, and a heartbeat whose offset
 * exceeds the baseline by more than `lateMs` arrived late. Several heartbeats arriving together
 * (a burst: local gaps far below the server's gaps) mean something held and released them.
 * Pure logic, no timers: the channel feeds it and owns the quiet timer.
 */
import { DEV } from "@throughline/wire";

/** Settings of the watch. */
export interface WatchSettings {
  /** A heartbeat later than the baseline by more than this is late. */
  readonly lateMs: number;
  /** Consecutive bursty heartbeat pairs that count as degraded. */
  readonly burstPairs: number;
}

export type WatchVerdict = { readonly degraded: false } | { readonly degraded: true; readonly reason: string };

const OK: WatchVerdict = Object.freeze({ degraded: false });

/** Watches one connection's heartbeats (`heartbeatMs`: the server's interval from the hello). */
export class HeartbeatWatch {
  #baseline = Infinity;
  #last: { server: number; local: number } | undefined;
  #bursty = 0;

  readonly #heartbeatMs: number;
  readonly #settings: WatchSettings;

  constructor(heartbeatMs: number, settings: WatchSettings) {
    this.#heartbeatMs = heartbeatMs;
    this.#settings = settings;
  }

  /** The hello's server time counts as the first sample of the baseline. */
  start(serverTime: number, local: number): void {
    this.#baseline = Math.min(this.#baseline, local - serverTime);
    this.#last = { server: serverTime, local };
  }

  /** Feeds one heartbeat: its server time and the local arrival time. */
  beat(serverTime: number, local: number): WatchVerdict {
    const offset = local - serverTime;
    const late = offset - this.#baseline;
    this.#baseline = Math.min(this.#baseline, offset);
    const prev = this.#last;
    this.#last = { server: serverTime, local };
    if (late > this.#settings.lateMs) return { degraded: true, reason: DEV ? `a heartbeat arrived ${Math.round(late)} ms late (bound ${this.#settings.lateMs} ms)` : `late ${Math.round(late)}` };
    if (prev) {
      const serverGap = serverTime - prev.server;
      const localGap = local - prev.local;
      // Only gaps of real heartbeat intervals count: the hello may be followed by one at once.
      if (serverGap >= this.#heartbeatMs / 2 && localGap < serverGap / 4) this.#bursty++;
      else this.#bursty = 0;
      if (this.#bursty >= this.#settings.burstPairs) {
        this.#bursty = 0;
        return { degraded: true, reason: DEV ? `heartbeats in bursts (${this.#settings.burstPairs} pairs far closer than sent)` : "bursts" };
      }
    }
    return OK;
  }
}
