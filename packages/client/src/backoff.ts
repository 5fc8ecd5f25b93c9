/**
 * Reconnect delays: "full jitter" exponential backoff (AWS Architecture Blog, "Exponential
 * Backoff and Jitter"): uniformly random in [0, min(max, base·2^attempt)). The randomness spreads
 * a crowd of clients that lost the same server over the whole window.
 */

/**
 * Delay before reconnect attempt `attempt` (0 for the first).
 * @param baseMs the server's `retryMs` when it sent one, else `reconnect.minDelayMs`
 * @param random a source in [0, 1) (injectable for tests)
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  // Uniform in [0, cap), cap = min(max, base·2^attempt).
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(0, attempt), 31)));
}
