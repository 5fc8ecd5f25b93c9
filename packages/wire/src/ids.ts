/**
 * Message ids: `<epoch>-<seq>`. The epoch names one run of a hub's history (a restarted server
 * without shared history gets a new one), the sequence orders every message of that run. Clients
 * treat ids as opaque cursors; only the server parses them.
 */

export interface ParsedId {
  readonly epoch: string;
  readonly seq: number;
}

const EPOCH_RE = /^[a-z0-9]{1,16}$/;
/** Bounded so that parsing a hostile id is O(1) and never leaves safe-integer range. */
const ID_RE = /^([a-z0-9]{1,16})-(0|[1-9][0-9]{0,14})$/;

export function formatId(epoch: string, seq: number): string {
  return `${epoch}-${seq}`;
}

/** Parses an id; `undefined` for anything that is not one (never throws, bounded work). */
export function parseId(id: string | null | undefined): ParsedId | undefined {
  if (typeof id !== "string" || id.length > 40) return undefined;
  const m = ID_RE.exec(id);
  return m ? { epoch: m[1]!, seq: Number(m[2]) } : undefined;
}

export function isEpoch(value: string): boolean {
  return EPOCH_RE.test(value);
}

/** A fresh random epoch: 10 base-36 characters (~51 bits). */
export function newEpoch(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n.toString(36).padStart(10, "0").slice(-10);
}

/** A fresh session id: 128 random bits, base64url. */
export function newSessionId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const SESSION_RE = /^[A-Za-z0-9_-]{1,64}$/;

export function isSessionId(value: string): boolean {
  return SESSION_RE.test(value);
}
