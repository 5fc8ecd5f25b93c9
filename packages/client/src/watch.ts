/**
 * Watch after connect: heartbeats carry the server's clock, so their arrival tells whether a
 * healthy stream turned bad. The offset `arrival − serverTime` includes clock skew and the
 * network delay; its minimum over the connection is the baseline, and a heartbeat whose offset
 * exceeds the baseline by more than `lateMs` arrived late. Several heartbeats arriving together
 * (a burst: local gaps far below the server's gaps) mean something held and released them.
 * Pure logic, no timers: the channel feeds it and owns the quiet timer.
 */
import { DEV } from "@throughline/wire";

/**
 * Watches one connection's heartbeats: feed it each heartbeat's server time and local arrival
 * time; it answers why the connection is degraded, or `undefined` while it is healthy.
 */
export type HeartbeatWatch = (serverTime: number, local: number) => string | undefined;

/**
 * A watch of one connection (`heartbeatMs`: the server's interval from the hello), started by the
 * hello: its server time and local arrival are the first sample of the baseline. A heartbeat later
 * than the baseline by more than `lateMs` is late; `burstPairs` consecutive bursty heartbeat pairs
 * count as degraded. A closure rather than a class: its private state then minifies.
 */
export function heartbeatWatch(heartbeatMs: number, lateMs: number, burstPairs: number, helloServerTime: number, helloLocal: number): HeartbeatWatch {
  let baseline = helloLocal - helloServerTime;
  /** The previous heartbeat's (at first the hello's) server and local times. */
  let lastServer = helloServerTime;
  let lastLocal = helloLocal;
  let bursty = 0;
  return (serverTime, local) => {
    const offset = local - serverTime;
    const late = offset - baseline;
    baseline = Math.min(baseline, offset);
    const serverGap = serverTime - lastServer;
    const localGap = local - lastLocal;
    lastServer = serverTime;
    lastLocal = local;
    if (late > lateMs) return DEV ? `a heartbeat arrived ${Math.round(late)} ms late (bound ${lateMs} ms)` : `late ${Math.round(late)}`;
    // Only gaps of real heartbeat intervals count: the hello may be followed by one at once.
    if (serverGap >= heartbeatMs / 2 && localGap < serverGap / 4) bursty++;
    else bursty = 0;
    if (bursty >= burstPairs) {
      bursty = 0;
      return DEV ? `heartbeats in bursts (${burstPairs} pairs far closer than sent)` : "bursts";
    }
    return undefined;
  };
}
