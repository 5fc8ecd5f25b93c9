/**
 * WebSocket tickets. Browsers cannot put an `Authorization` header on a WebSocket, and tokens in
 * URLs end up in access logs, so the client trades its token (in a header, `POST P/ticket`) for a
 * ticket: 128 random bits, valid for `ticketTtlMs`, usable once, naming the principal that
 * authenticated. Only the ticket travels in the WebSocket URL; a logged one is already spent.
 */
import { randomBytes } from "node:crypto";
import type { Principal } from "./auth.js";

interface Entry {
  readonly principal: Principal;
  readonly expiresAt: number;
}

/** A ticket looks like this (22 base64url characters); anything else is refused without a lookup. */
const TICKET_RE = /^[A-Za-z0-9_-]{22}$/;

export class TicketStore {
  readonly #tickets = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.#tickets.size;
  }

  /** Issues a ticket, or `undefined` when `max` unexpired tickets are outstanding. */
  issue(principal: Principal): string | undefined {
    if (this.#tickets.size >= this.max) this.#sweep();
    if (this.#tickets.size >= this.max) return undefined;
    const ticket = randomBytes(16).toString("base64url");
    // A ticket never outlives the credentials it was issued for.
    const expiresAt = Math.min(this.now() + this.ttlMs, principal.expiresAt ?? Infinity);
    this.#tickets.set(ticket, { principal, expiresAt });
    return ticket;
  }

  /** Spends a ticket: its principal, or `undefined` (unknown, expired or already used). */
  redeem(ticket: string): Principal | undefined {
    if (!TICKET_RE.test(ticket)) return undefined;
    const entry = this.#tickets.get(ticket);
    if (!entry) return undefined;
    this.#tickets.delete(ticket); // single use, even when expired
    return entry.expiresAt > this.now() ? entry.principal : undefined;
  }

  /** Forgets expired tickets (Map iteration is in insertion order, i.e. by expiry for one TTL). */
  #sweep(): void {
    const now = this.now();
    for (const [t, e] of this.#tickets) if (e.expiresAt <= now) this.#tickets.delete(t);
  }

  clear(): void {
    this.#tickets.clear();
  }
}
