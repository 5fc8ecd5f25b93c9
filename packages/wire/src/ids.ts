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
  // (Bounded without a length test: the anchored pattern gives up within its first 33 characters.)
  if (typeof id !== "string") return undefined;
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

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * A fresh session id: 128 random bits, base64url (22 characters, no padding). Encoded by hand
 * into one flat string: a session id lives as long as its session, and stripping padding off
 * `btoa`'s output would keep a slice of it plus the whole original alive.
 */
export function newSessionId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  const codes: number[] = [];
  for (let i = 0; i < 16; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = i + 3 <= 16 ? 4 : i + 2 <= 16 ? 3 : 2;
    for (let k = 0; k < chars; k++) codes.push(BASE64URL.charCodeAt((n >> (18 - 6 * k)) & 63));
  }
  return String.fromCharCode(...codes);
}

const SESSION_RE = /^[A-Za-z0-9_-]{1,64}$/;

export function isSessionId(value: string): boolean {
  return SESSION_RE.test(value);
}
