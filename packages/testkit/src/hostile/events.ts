/**
 * What flows through a proxy's stages: a head, body chunks, an end. Requests and responses use
 * the same shape so one stage (latency) can work on both; WebSocket tunnels carry only chunks.
 */

/** Header list as (name, value) pairs, order and case kept as received. */
export type HeaderList = Array<[string, string]>;

export interface RequestHead {
  readonly method: string;
  readonly url: string;
  readonly headers: HeaderList;
}

export interface ResponseHead {
  readonly status: number;
  readonly statusMessage: string;
  readonly headers: HeaderList;
}

export type FlowEvent<H> = { readonly type: "head"; readonly head: H } | { readonly type: "data"; readonly chunk: Buffer } | { readonly type: "end" };

export type Emit<E> = (event: E) => void;

export type RequestEvent = FlowEvent<RequestHead>;
export type ResponseEvent = FlowEvent<ResponseHead>;
/** Tunnel traffic: raw bytes and a half-close. */
export type TunnelEvent = Exclude<FlowEvent<never>, { type: "head" }>;

// RFC 9110 §7.6.1: hop-by-hop fields are never forwarded (upgrades put Upgrade/Connection back).
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);

/** Builds a header list from Node's flat `rawHeaders`. */
export function fromRaw(raw: readonly string[]): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

/** First value of a header, case-insensitive. */
export function headerValue(headers: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find(([n]) => n.toLowerCase() === lower)?.[1];
}

/** A copy without the named headers (case-insensitive). */
export function withoutHeaders(headers: HeaderList, names: Iterable<string>): HeaderList {
  const drop = new Set([...names].map((n) => n.toLowerCase()));
  return headers.filter(([n]) => !drop.has(n.toLowerCase()));
}

/** A copy without hop-by-hop headers (and those `Connection` names). */
export function endToEnd(headers: HeaderList): HeaderList {
  const named = (headerValue(headers, "connection") ?? "").split(",").map((s) => s.trim().toLowerCase());
  return withoutHeaders(headers, [...HOP_BY_HOP, ...named.filter(Boolean)]);
}

/** Node's flat header array form, for `writeHead` and `http.request`. */
export function toFlat(headers: HeaderList): string[] {
  return headers.flat();
}

/** Whether the request asks for a WebSocket (or any) protocol upgrade. */
export function isUpgradeRequest(head: RequestHead): boolean {
  return headerValue(head.headers, "upgrade") !== undefined && /\bupgrade\b/i.test(headerValue(head.headers, "connection") ?? "");
}
