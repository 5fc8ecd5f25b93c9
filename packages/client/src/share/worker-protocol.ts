/**
 * Messages between a tab and the `SharedWorker` that holds the shared connection (one
 * MessagePort per tab). The worker asks a tab for a token when `connect()` needs one, so token
 * functions stay in the tabs.
 */
import type { GapFrame, Message, TransportName } from "@throughline/wire";
import type { ReadyState } from "../api.js";
import type { ConnectOptions } from "../options.js";

/** The structured-cloneable part of `connect()`'s options (functions and constructors cannot cross). */
export type WorkerConnectOptions = Omit<ConnectOptions, "token" | "fetch" | "WebSocket" | "clock" | "negotiation" | "transports"> & {
  /** Transport values cannot cross: the worker bundles all three, so their names do. */
  readonly transports?: TransportName[];
  readonly negotiation?: Omit<NonNullable<ConnectOptions["negotiation"]>, "memory">;
};

export type TabToWorker =
  /** `cursor`: the last id this tab saw (a rejoin after the worker died resumes from it). */
  | { readonly k: "join"; readonly key: string; readonly url: string; readonly options: WorkerConnectOptions; readonly topics: readonly string[]; readonly token: boolean; readonly cursor: string | null }
  /** Liveness: the worker answers `pong` (a worker dies with the renderer process hosting it). */
  | { readonly k: "ping" }
  | { readonly k: "send"; readonly req: number; readonly data: unknown }
  | { readonly k: "token"; readonly req: number; readonly value?: string; readonly error?: string }
  | { readonly k: "leave" };

export type WorkerToTab =
  | { readonly k: "state"; readonly state: ReadyState }
  | { readonly k: "msg"; readonly m: Message }
  | { readonly k: "gap"; readonly g: GapFrame }
  | { readonly k: "sent"; readonly req: number; readonly error?: { readonly code: string; readonly message: string } }
  | { readonly k: "token?"; readonly req: number }
  | { readonly k: "pong" };

/** Only the cloneable options go to the worker. */
export function workerOptions(o: ConnectOptions): WorkerConnectOptions {
  const { token: _t, fetch: _f, WebSocket: _w, clock: _c, negotiation, transports, ...more } = o;
  const rest: WorkerConnectOptions = transports ? { ...more, transports: transports.map((t) => (typeof t === "string" ? t : t.name)) } : more;
  if (!negotiation) return rest;
  const { memory: _m, ...n } = negotiation;
  return { ...rest, negotiation: n };
}
