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
  /** Outstanding tickets per user key, so one user cannot take every ticket (and lock others out of WebSocket). */
  readonly #byUser = new Map<string, Set<string>>();

  /**
   * @param max unexpired tickets outstanding in all
   * @param maxPerUser unexpired tickets outstanding per authenticated user (`Principal.key`)
   */
  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
    private readonly maxPerUser: number,
    private readonly now: () => number,
  ) {}

  /** Issues a ticket, or `undefined` when `max` (or the user's `maxPerUser`) unexpired tickets are outstanding. */
  issue(principal: Principal): string | undefined {
    const mine = principal.key === undefined ? undefined : this.#byUser.get(principal.key);
    if (mine && mine.size >= this.maxPerUser) {
      for (const t of mine) if (!this.#live(t)) this.#forget(t);
      if (mine.size >= this.maxPerUser) return undefined;
    }
    if (this.#tickets.size >= this.max) this.#sweep();
    if (this.#tickets.size >= this.max) return undefined;
    const ticket = randomBytes(16).toString("base64url");
    // A ticket never outlives the credentials it was issued for.
    const expiresAt = Math.min(this.now() + this.ttlMs, principal.expiresAt ?? Infinity);
    this.#tickets.set(ticket, { principal, expiresAt });
    if (principal.key !== undefined) {
      let set = this.#byUser.get(principal.key);
      if (!set) this.#byUser.set(principal.key, (set = new Set()));
      set.add(ticket);
    }
    return ticket;
  }

  /** Spends a ticket: its principal, or `undefined` (unknown, expired or already used). */
  redeem(ticket: string): Principal | undefined {
    if (!TICKET_RE.test(ticket)) return undefined;
    const entry = this.#tickets.get(ticket);
    if (!entry) return undefined;
    this.#forget(ticket); // single use, even when expired
    return entry.expiresAt > this.now() ? entry.principal : undefined;
  }

  /**
   * Holds a ticket another node issued (its single use was taken from the shared store,
   * cross-node.ts), so the next `redeem` of it here succeeds once. A ticket this node issued
   * keeps its own entry.
   */
  adopt(ticket: string, principal: Principal, expiresAt: number): void {
    if (!TICKET_RE.test(ticket) || this.#tickets.has(ticket)) return;
    this.#tickets.set(ticket, { principal, expiresAt });
  }

  /** Drops a ticket (spent on another node): its `redeem` here fails. */
  discard(ticket: string): void {
    this.#forget(ticket);
  }

  /** When a ticket expires (`undefined`: unknown here). */
  expiryOf(ticket: string): number | undefined {
    return this.#tickets.get(ticket)?.expiresAt;
  }

  /** Forgets expired tickets (Map iteration is in insertion order, i.e. by expiry for one TTL). */
  #sweep(): void {
    for (const t of this.#tickets.keys()) if (!this.#live(t)) this.#forget(t);
  }

  #live(ticket: string): boolean {
    const e = this.#tickets.get(ticket);
    return e !== undefined && e.expiresAt > this.now();
  }

  #forget(ticket: string): void {
    const key = this.#tickets.get(ticket)?.principal.key;
    this.#tickets.delete(ticket);
    if (key === undefined) return;
    const set = this.#byUser.get(key);
    set?.delete(ticket);
    if (set?.size === 0) this.#byUser.delete(key);
  }

  clear(): void {
    this.#tickets.clear();
    this.#byUser.clear();
  }
}
