/**
 * The Effect channel's own event relay. The core channel behind it can be replaced (a
 * Schedule-driven reconnect opens a new one), so streams listen here, not on the core channel.
 *
 * Messages and gaps that arrive before any stream listens are held (in order) and handed to the
 * first listener, so a consumer started right after `connect` misses nothing. The hold is
 * bounded: past `holdLimit` the channel fails loudly instead of growing or dropping silently.
 */
import type { GapFrame, Message, TransportName } from "@throughline/wire";
import type { WireError } from "../Errors.js";

export type Delivery = { readonly kind: "message"; readonly message: Message } | { readonly kind: "gap"; readonly gap: GapFrame };

export interface TransportChange {
  readonly transport: TransportName;
  readonly previous: TransportName | null;
}

type Fn<A> = (a: A) => void;

export class Relay {
  readonly #delivery = new Set<Fn<Delivery>>();
  readonly #transport = new Set<Fn<TransportChange>>();
  readonly #errors = new Set<Fn<WireError>>();
  #held: Delivery[] | undefined = [];

  constructor(
    readonly holdLimit: number,
    private readonly onOverflow: () => void,
  ) {}

  deliver(d: Delivery): void {
    if (this.#held) {
      if (this.#held.length >= this.holdLimit) {
        this.#held = undefined;
        return this.onOverflow();
      }
      this.#held.push(d);
      return;
    }
    for (const fn of this.#delivery) fn(d);
  }

  onDelivery(fn: Fn<Delivery>): () => void {
    this.#delivery.add(fn);
    const held = this.#held;
    this.#held = undefined;
    if (held) for (const d of held) fn(d);
    return () => this.#delivery.delete(fn);
  }

  transport(change: TransportChange): void {
    for (const fn of this.#transport) fn(change);
  }

  onTransport(fn: Fn<TransportChange>): () => void {
    this.#transport.add(fn);
    return () => this.#transport.delete(fn);
  }

  error(e: WireError): void {
    for (const fn of this.#errors) fn(e);
  }

  onError(fn: Fn<WireError>): () => void {
    this.#errors.add(fn);
    return () => this.#errors.delete(fn);
  }

  clear(): void {
    this.#held = undefined;
    this.#delivery.clear();
    this.#transport.clear();
    this.#errors.clear();
  }
}
