/** Bounded waits for tests over real sockets: a broken client fails with a message, never hangs. */
import type { Channel } from "@throughline/client";

export { sleep, waitFor } from "@throughline/testkit";

/** The next occurrence of a channel event, within `timeoutMs`. */
export function next<T>(ch: Channel, event: string, timeoutMs = 10_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for "${event}"`));
    }, timeoutMs);
    const off = ch.on(event, ((v: T) => {
      clearTimeout(timer);
      off();
      resolve(v);
    }) as never);
  });
}
