/** Bounded waits for tests over real sockets: a broken client fails with a message, never hangs. */
import type { Channel } from "@throughline/client";

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

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
