/**
 * What tabs of one origin say to each other over a `BroadcastChannel` to share one connection.
 * One leader tab (holder of a Web Lock) owns the Throughline channel; every other tab follows.
 * `term` grows with every new leader, so a deposed leader that wakes up (frozen, throttled) is
 * recognised and ignored.
 */
import type { GapFrame, Message } from "@throughline/wire";
import type { ReadyState } from "../api.js";

export type ShareMessage =
  /** A tab joined (or answers `lead`): its topics, so the leader subscribes to their union. */
  | { readonly k: "hello"; readonly tab: string; readonly topics: readonly string[] }
  /** A tab closes. */
  | { readonly k: "bye"; readonly tab: string }
  /** A follower asks whether the leader is alive (answered by `beat` from a message handler, which background throttling does not delay). */
  | { readonly k: "ping"; readonly tab: string }
  /** A follower's `send`; answered by `sent`. */
  | { readonly k: "send"; readonly tab: string; readonly req: number; readonly data: unknown }
  /** A new leader took over. */
  | { readonly k: "lead"; readonly term: number; readonly tab: string }
  | { readonly k: "beat"; readonly term: number; readonly tab: string; readonly state: ReadyState }
  | { readonly k: "msg"; readonly term: number; readonly tab: string; readonly m: Message }
  | { readonly k: "gap"; readonly term: number; readonly tab: string; readonly g: GapFrame }
  | { readonly k: "sent"; readonly term: number; readonly tab: string; readonly req: number; readonly error?: { readonly code: string; readonly message: string } };

/** The BroadcastChannel and Web Lock names of one endpoint (per origin, by the browser's scoping). */
export function shareNames(url: string, name?: string): { channel: string; lock: string } {
  const key = name ?? url;
  return { channel: `throughline:share:${key}`, lock: `throughline:leader:${key}` };
}
