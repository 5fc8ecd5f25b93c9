/**
 * The channel: one logical stream across reconnects and transport switches.
 *
 * A generation counter guards every transport callback (as centrifuge's `_transportId`): each
 * attempt, drop and close bumps it, so a replaced or closed transport can never deliver a frame
 * or report a close again. Network-driven events are emitted synchronously from the transport's
 * (already asynchronous) callbacks, keeping `open` before the messages that follow the hello;
 * events caused by an application call (`close()`) are emitted in a microtask, so listeners
 * never run re-entrantly inside that call.
 */
import {
  ThroughlineError,
  closeCodeName,
  closeReconnects,
  parseId,
  type HelloFrame,
  type Message,
  type MessageFrame,
  type ServerFrame,
  type TransportName,
} from "@throughline/wire";
import { backoffDelay } from "./backoff.js";
import { Emitter } from "./emitter.js";
import { MessageIterator } from "./iterator.js";
import { negotiate, type AttemptResult } from "./negotiate.js";
import { CLOSED, CONNECTING, OPEN, type Channel, type ReadyState } from "./api.js";
import type { ResolvedOptions } from "./options.js";
import type { ClientTransport, CloseInfo, TransportContext, TransportFactory } from "./transport.js";

const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? (Symbol.for("Symbol.asyncDispose") as typeof Symbol.asyncDispose);

/** Error for a connection the server closed with a code that ends the channel. */
function closeError(code: number, reason: string): ThroughlineError {
  const byCode: Record<number, ThroughlineError["code"]> = {
    1006: "TL_CONNECTION_LOST",
    1009: "TL_PAYLOAD_TOO_LARGE",
    1011: "TL_INTERNAL",
    4400: "TL_BAD_REQUEST",
    4401: "TL_UNAUTHORIZED",
    4403: "TL_FORBIDDEN",
    4429: "TL_RATE_LIMITED",
  };
  return new ThroughlineError(byCode[code] ?? "TL_CLOSED", `the server closed the connection (${code} ${closeCodeName(code)}${reason ? `: ${reason.slice(0, 200)}` : ""}).`, { closeCode: code });
}

/** `id` is not newer than `cursor` (same epoch, seq ≤): a duplicate of a resume. */
function isStale(id: string, cursor: string | null): boolean {
  const a = parseId(id);
  const c = parseId(cursor);
  return !!a && !!c && a.epoch === c.epoch && a.seq <= c.seq;
}

interface SendWaiter {
  readonly go: () => void;
  readonly fail: (e: ThroughlineError) => void;
}

/** Creates a channel and starts connecting (in a microtask, after the caller attached listeners). */
export function createChannel(o: ResolvedOptions, factories: Partial<Record<TransportName, TransportFactory>>): Channel {
  const { clock } = o;
  const events = new Emitter();
  const iterators = new Set<MessageIterator>();
  const waiters = new Set<SendWaiter>();
  let state: ReadyState = CONNECTING;
  let transport: TransportName | null = null;
  let session: string | null = null;
  let cursor: string | null = o.cursor;
  /** Bumped by every attempt, drop and close: callbacks of older generations are ignored. */
  let gen = 0;
  let link: ClientTransport | undefined;
  let linkName: TransportName | undefined;
  /** Settles the attempt in progress (before its hello). */
  let pending: ((r: AttemptResult) => void) | undefined;
  let connectTimer: unknown;
  let deadTimer: unknown;
  let deadMs = 0;
  let lastFrameAt = 0;
  let wakeTimer: unknown;
  let wake: (() => void) | undefined;
  /** Consecutive failures since the last open, for the backoff. */
  let failures = 0;
  let retryMs: number | undefined;

  const setState = (s: ReadyState) => {
    if (state === s) return;
    state = s;
    events.emit("state", s);
  };

  const clearTimer = (t: unknown) => {
    if (t !== undefined) clock.clearTimeout(t);
  };

  const ctx: TransportContext = {
    url: o.url,
    topics: o.topics,
    get session() {
      return session;
    },
    get cursor() {
      return cursor;
    },
    async headers() {
      const h: Record<string, string> = { ...o.headers };
      let token: string | undefined;
      try {
        token = typeof o.token === "function" ? await o.token() : o.token;
      } catch (cause) {
        throw new ThroughlineError("TL_CONNECT_FAILED", "the token function failed.", { cause });
      }
      if (token) h.authorization = `Bearer ${token}`;
      return h;
    },
    fetch: o.fetch,
    WebSocket: o.WebSocket,
    clock,
    connectTimeoutMs: o.connectTimeoutMs,
  };

  /** Drops the current link (without ending the server session) and its timers. */
  const drop = () => {
    gen++;
    clearTimer(connectTimer);
    clearTimer(deadTimer);
    connectTimer = deadTimer = undefined;
    const l = link;
    link = linkName = undefined;
    l?.close();
  };

  /**
   * Closes for good. `reported`: the error was already emitted (a failed attempt), so the final
   * close does not emit it twice.
   */
  const finish = (info: CloseInfo, deferred = false, goodbye = false, reported = false) => {
    if (state === CLOSED) return;
    gen++;
    clearTimer(connectTimer);
    clearTimer(deadTimer);
    clearTimer(wakeTimer);
    const l = link;
    link = linkName = undefined;
    if (goodbye) l?.close(1000);
    else l?.close();
    state = CLOSED;
    const p = pending;
    pending = undefined;
    p?.(null);
    const w = wake;
    wake = undefined;
    w?.();
    for (const it of [...iterators]) it.end();
    for (const s of [...waiters]) s.fail(new ThroughlineError("TL_CLOSED", "the channel closed before the message could be sent."));
    const error = info.error ?? (info.code === 1000 ? undefined : closeError(info.code, info.reason));
    const fire = () => {
      events.emit("state", CLOSED);
      if (error && !reported) events.emit("error", error);
      events.emit("close", error ? { code: info.code, reason: info.reason, error } : { code: info.code, reason: info.reason });
    };
    if (deferred) queueMicrotask(fire);
    else fire();
  };

  const checkDead = () => {
    deadTimer = undefined;
    const idle = clock.now() - lastFrameAt;
    if (idle < deadMs) {
      deadTimer = clock.setTimeout(checkDead, deadMs - idle);
      return;
    }
    const error = new ThroughlineError("TL_CONNECTION_LOST", `no frame (not even a heartbeat) for ${Math.round(idle)} ms: the connection is dead.`, { closeCode: 1006 });
    lost({ code: 1006, reason: error.code, error });
  };

  const onHello = (f: HelloFrame, g: number) => {
    const settle = pending;
    if (!settle) {
      session = f.session; // a repeated hello on an open link: only the session can matter
      return;
    }
    pending = undefined;
    clearTimer(connectTimer);
    connectTimer = undefined;
    session = f.session;
    if (cursor === null) cursor = f.cursor;
    retryMs = f.retryMs >= 0 ? f.retryMs : undefined;
    failures = 0;
    // Dead-connection bound: two missed heartbeats plus slack; a long-poll's answer may also be held.
    deadMs = f.heartbeatMs > 0 ? (linkName === "long-poll" ? (f.holdMs ?? 0) + f.heartbeatMs : 2 * f.heartbeatMs) + 5000 : 0;
    if (deadMs > 0) deadTimer = clock.setTimeout(checkDead, deadMs);
    const previous = transport;
    transport = linkName!;
    state = OPEN;
    settle({ ok: true });
    if (previous !== transport) events.emit("transport", { transport, previous });
    if (g !== gen) return;
    events.emit("state", OPEN);
    if (g !== gen) return;
    events.emit("open", { transport, session });
    if (g !== gen) return;
    for (const s of [...waiters]) s.go();
  };

  const onMessage = (f: MessageFrame) => {
    if (isStale(f.id, cursor)) return;
    cursor = f.id;
    const m: Message = { id: f.id, topic: f.topic, event: f.event, data: f.data };
    // A message is delivered to everyone as one step, even if a listener closes the channel.
    for (const it of iterators) it.push(m);
    events.emit("*", m);
    events.emit(m.event, m);
  };

  const onFrame = (f: ServerFrame, g: number) => {
    lastFrameAt = clock.now();
    if (f.type === "hello") return onHello(f, g);
    if (f.type === "close") {
      const l = link;
      drop();
      l?.close();
      return onClose({ code: f.code, reason: f.reason });
    }
    if (pending) return; // nothing but hello or close may come first
    switch (f.type) {
      case "message":
        return onMessage(f);
      case "gap":
        cursor = f.cursor;
        return events.emit("gap", f);
      case "probe":
        // Echo, so the server can measure this transport's round trip.
        link?.send([{ type: "probe", seq: f.seq }]).catch(() => {});
        return;
    }
  };

  /** A link ended: an attempt failed, or an open connection was closed or lost. */
  const onClose = (info: CloseInfo) => {
    const settle = pending;
    if (settle) {
      pending = undefined;
      drop();
      // The server cannot know a session that was never given: do not loop on that.
      const code = info.code === 4404 && session === null ? 1006 : info.code;
      const error = info.error ?? (code === 4404 ? undefined : closeError(code, info.reason));
      // An expired session is an expected step of resuming, healed at once: not an error.
      if (error && code !== 4404) events.emit("error", error);
      settle({ ok: false, info: { ...info, code, error } });
      return;
    }
    lost(info);
  };

  /** An open connection ended: reconnect, or close for good. */
  const lost = (info: CloseInfo) => {
    drop();
    if (!o.reconnect || info.fatal || !closeReconnects(info.code)) return finish(info);
    const g = gen;
    if (info.code === 4404) session = null; // expected and healed at once: not an error
    else if (info.error) events.emit("error", info.error);
    if (g !== gen) return;
    setState(CONNECTING);
    if (g !== gen) return;
    void backoff().then(run);
  };

  const backoff = () =>
    new Promise<void>((resolve) => {
      const base = retryMs ?? (o.reconnect ? o.reconnect.minDelayMs : 0);
      const delay = backoffDelay(failures++, base, o.reconnect ? o.reconnect.maxDelayMs : 0);
      wake = resolve;
      wakeTimer = clock.setTimeout(() => {
        wakeTimer = wake = undefined;
        resolve();
      }, delay);
    });

  const attempt = (name: TransportName): Promise<AttemptResult> =>
    new Promise((settle) => {
      if (state === CLOSED) return settle(null);
      const g = ++gen;
      pending = settle;
      linkName = name;
      connectTimer = clock.setTimeout(() => {
        if (g !== gen) return;
        const error = new ThroughlineError("TL_CONNECT_TIMEOUT", `no hello over ${name} within ${o.connectTimeoutMs} ms.`);
        onClose({ code: 1006, reason: error.code, error });
      }, o.connectTimeoutMs);
      link = factories[name]!(ctx, {
        frame: (f) => {
          if (g === gen) onFrame(f, g);
        },
        close: (info) => {
          if (g === gen) onClose(info);
        },
      });
      link.open();
    });

  /** Connect rounds until open or closed, backing off between failed rounds. */
  const run = async (): Promise<void> => {
    while (state !== CLOSED) {
      const r = await negotiate(o.transports, attempt);
      if (r.kind === "open" || r.kind === "closed" || (state as ReadyState) === CLOSED) return;
      if (r.kind === "new-session") {
        session = null;
        continue;
      }
      if (r.kind === "final") return finish(r.info, false, false, true);
      const error = new ThroughlineError("TL_NO_TRANSPORT", `every transport failed (${o.transports.join(", ")})${o.reconnect ? "; retrying" : ""}.`, { cause: r.errors });
      if (!o.reconnect) return finish({ code: 1006, reason: error.code, error });
      events.emit("error", error);
      await backoff();
    }
  };

  const start = () => {
    run().catch((cause: unknown) => {
      // A bug, not a network condition: end visibly instead of hanging in CONNECTING.
      finish({ code: 1011, reason: "TL_INTERNAL", error: new ThroughlineError("TL_INTERNAL", "the client failed unexpectedly.", { cause }) });
    });
  };
  queueMicrotask(start);

  const sendNow = async (data: unknown): Promise<void> => {
    const l = link;
    if (!l) throw new ThroughlineError("TL_SEND_FAILED", "the connection was lost before the message could be sent.");
    try {
      await l.send([{ type: "message", data }]);
    } catch (e) {
      throw e instanceof ThroughlineError ? e : new ThroughlineError("TL_SEND_FAILED", "the message could not be sent.", { cause: e });
    }
  };

  const channel = {
    url: o.url,
    get transport() {
      return transport;
    },
    get readyState() {
      return state;
    },
    get session() {
      return session;
    },
    get cursor() {
      return cursor;
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    on(event: string, fn: (arg: any) => void) {
      if (typeof fn !== "function") throw new ThroughlineError("TL_INVALID_OPTION", `the listener for "${String(event)}" must be a function.`);
      return events.on(event, fn);
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    off(event: string, fn: (arg: any) => void) {
      events.off(event, fn);
    },
    send(data: unknown): Promise<void> {
      if (state === CLOSED) return Promise.reject(new ThroughlineError("TL_CLOSED", "the channel is closed."));
      const t = typeof data;
      if (data === undefined || t === "function" || t === "symbol" || t === "bigint") {
        return Promise.reject(new ThroughlineError("TL_BAD_DATA", `cannot send ${t}: send JSON-serializable data.`));
      }
      if (state === OPEN) return sendNow(data);
      return new Promise<void>((resolve, reject) => {
        const timer = clock.setTimeout(() => {
          waiters.delete(w);
          reject(new ThroughlineError("TL_SEND_FAILED", `not connected within ${o.connectTimeoutMs} ms.`));
        }, o.connectTimeoutMs);
        const w: SendWaiter = {
          go: () => {
            waiters.delete(w);
            clock.clearTimeout(timer);
            sendNow(data).then(resolve, reject);
          },
          fail: (e) => {
            waiters.delete(w);
            clock.clearTimeout(timer);
            reject(e);
          },
        };
        waiters.add(w);
      });
    },
    close() {
      finish({ code: 1000, reason: "closed by the client" }, true, true);
    },
    [asyncDispose](): Promise<void> {
      channel.close();
      // Resolves after the deferred close event has been emitted.
      return new Promise((resolve) => queueMicrotask(resolve));
    },
    [Symbol.asyncIterator](): AsyncIterator<Message> {
      const it = new MessageIterator((i) => iterators.delete(i));
      if (state === CLOSED) it.end();
      else iterators.add(it);
      return it;
    },
  };
  return channel as Channel;
}
