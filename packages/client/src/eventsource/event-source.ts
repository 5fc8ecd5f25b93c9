/**
 * `EventSource`, the standard interface (WHATWG HTML §9.2.2), over Throughline: swap the
 * constructor and existing code — `onmessage`, `addEventListener("price", …)`, `readyState`,
 * `close()` — keeps working, with headers, retry bounds and, against a Throughline server,
 * negotiation over SSE / WebSocket / long-poll and lossless resume.
 */
import { DEV, ThroughlineError, type GapFrame } from "@throughline/wire";
import { CLOSED, CONNECTING, OPEN, type ReadyState } from "../api.js";
import { EventSourceErrorEvent, messageEvent } from "./events.js";
import { resolveEventSourceInit, type EventSourceInit, type ResolvedEventSourceInit } from "./options.js";
import { plainSource } from "./plain.js";
import type { SourceBackend, SourceSink } from "./sink.js";
import { throughlineSource } from "./throughline.js";

type Handler<E extends Event> = ((this: EventSource, ev: E) => unknown) | null;

function absolute(url: string | URL): string {
  try {
    const base = (globalThis as { location?: { href?: string } }).location?.href;
    return new URL(String(url), base).toString();
  } catch (cause) {
    const got = JSON.stringify(String(url).slice(0, 80));
    throw new ThroughlineError("TL_INVALID_OPTION", DEV ? `EventSource url ${got} is not a valid URL.` : got, { cause });
  }
}

export class EventSource extends EventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSED = CLOSED;
  readonly CONNECTING = CONNECTING;
  readonly OPEN = OPEN;
  readonly CLOSED = CLOSED;

  readonly url: string;
  readonly withCredentials: boolean;
  onopen: Handler<Event> = null;
  onmessage: Handler<MessageEvent<string>> = null;
  onerror: Handler<EventSourceErrorEvent> = null;

  #state: ReadyState = CONNECTING;
  #backend: SourceBackend;

  /**
   * Starts connecting at once, like the standard's constructor.
   * @throws ThroughlineError TL_INVALID_OPTION for an invalid URL or options
   */
  constructor(url: string | URL, init?: EventSourceInit) {
    super();
    this.url = absolute(url);
    const o = resolveEventSourceInit(init);
    this.withCredentials = o.withCredentials;
    this.#backend = this.#start(o);
  }

  get readyState(): ReadyState {
    return this.#state;
  }

  /** Stops for good: no reconnect, no more events. Idempotent. */
  close(): void {
    this.#state = CLOSED;
    this.#backend.close();
  }

  #start(o: ResolvedEventSourceInit): SourceBackend {
    const sink: SourceSink = {
      open: () => {
        if (this.#state !== CONNECTING) return;
        this.#state = OPEN;
        this.#fire(new Event("open"), this.onopen);
      },
      message: (type, data, lastEventId, origin) => {
        if (this.#state === CLOSED) return;
        if (this.#state === CONNECTING) sink.open();
        const ev = messageEvent(type, data, lastEventId, origin);
        this.#fire(ev, type === "message" ? this.onmessage : null);
      },
      reconnecting: (error) => {
        if (this.#state === CLOSED) return;
        this.#state = CONNECTING;
        this.#fire(new EventSourceErrorEvent(error), this.onerror);
      },
      fail: (error) => {
        if (this.#state === CLOSED) return;
        this.#state = CLOSED;
        this.#fire(new EventSourceErrorEvent(error), this.onerror);
      },
      gap: (error, gap: GapFrame) => {
        if (this.#state !== CLOSED) this.#fire(new EventSourceErrorEvent(error, gap), this.onerror);
      },
      handover: (url, topics) => {
        if (this.#state !== CLOSED) this.#backend = throughlineSource(url, o, sink, topics);
      },
    };
    return o.protocol === "throughline" ? throughlineSource(this.url, o, sink) : plainSource(this.url, o, sink, o.protocol === "auto");
  }

  /** The `on…` handler runs after the listeners added with addEventListener (a simplification of §8.1.8.1). */
  #fire(ev: Event, handler: Handler<never> | null): void {
    this.dispatchEvent(ev);
    if (typeof handler === "function") {
      try {
        (handler as (this: EventSource, ev: Event) => unknown).call(this, ev);
      } catch (err) {
        // Like a listener's exception: reported, never breaking the stream.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
