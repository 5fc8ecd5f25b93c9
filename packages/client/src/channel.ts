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
  TRANSPORTS,
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
import { Diagnostics, type AttemptPurpose, type AttemptRecord } from "./diagnostics.js";
import { rememberedOrder } from "./memory.js";
import { race, type Race, type RaceResult } from "./negotiate.js";
import { closeError, openCandidate, type Candidate } from "./probe.js";
import { HeartbeatWatch } from "./watch.js";
import { CLOSED, CONNECTING, OPEN, type Channel, type ReadyState } from "./api.js";
import type { ResolvedOptions } from "./options.js";
import { abnormal, connectionLost, type ClientTransport, type CloseInfo, type TransportContext, type TransportFactory } from "./transport.js";

const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? (Symbol.for("Symbol.asyncDispose") as typeof Symbol.asyncDispose);

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
  /** Between adopting a proven link and processing its hello (replayed from the candidate). */
  let awaitingHello = false;
  /** The race in progress (connecting, switching down, climbing back, forced): one at a time. */
  let racing: Race | undefined;
  const neg = o.negotiation;
  const diagnostics = new Diagnostics();
  /** Watches the adopted link's heartbeats (SSE and WebSocket). */
  let watch: HeartbeatWatch | undefined;
  let climbTimer: unknown;
  /** Failed climbs and switches down so far: the climb-back backoff exponent. */
  let climbFailures = 0;
  /** Set by `switchTransport`: climbing back would undo the application's choice. */
  let pinned = false;
  /** Transports that degraded on this channel: tried last until a climb proves them again. */
  const demoted = new Set<TransportName>();
  /** The one token refresh after a marked 401/403 was used. */
  let refreshed = false;
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

  /** Clears a timer if set; returns `undefined` for the variable that held it. */
  const clearTimer = (t: unknown): undefined => {
    if (t !== undefined) clock.clearTimeout(t);
    return undefined;
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

  /** Drops the current link and its timer; with a `code`, the link says goodbye (ending the server session). */
  const drop = (code?: number) => {
    gen++;
    deadTimer = clearTimer(deadTimer);
    const l = link;
    link = linkName = undefined;
    if (l) l.close(code);
  };

  /** Stops the background work: the climb-back timer and any race (climb, switch down). */
  const stopBackground = () => {
    climbTimer = clearTimer(climbTimer);
    const r = racing;
    racing = undefined;
    if (r) r.cancel();
  };

  /**
   * Closes for good. `reported`: the error was already emitted (a failed attempt), so the final
   * close does not emit it twice.
   */
  const finish = (info: CloseInfo, deferred = false, goodbye = false, reported = false) => {
    if (state === CLOSED) return;
    wakeTimer = clearTimer(wakeTimer);
    if (network) {
      network.removeEventListener("online", onOnline);
      network.removeEventListener("offline", onOffline);
    }
    drop(goodbye ? 1000 : undefined);
    state = CLOSED;
    stopBackground();
    const w = wake;
    wake = undefined;
    if (w) w();
    for (const it of [...iterators]) it.end();
    for (const s of [...waiters]) s.fail(new ThroughlineError("TL_CLOSED", "the channel closed before sending."));
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
    const info = connectionLost(`no frame (not even a heartbeat) for ${Math.round(idle)} ms.`);
    // Quiet past the heartbeat bound: switch down (this transport is tried last from now on).
    if (linkName && watch) degrade(linkName, info.error!.message);
    lost(info);
  };

  const onHello = (f: HelloFrame, g: number) => {
    if (!awaitingHello) {
      session = f.session; // a repeated hello on an open link: only the session can matter
      return;
    }
    awaitingHello = false;
    session = f.session;
    if (cursor === null) cursor = f.cursor;
    retryMs = f.retryMs >= 0 ? f.retryMs : undefined;
    failures = 0;
    refreshed = false;
    const watched = neg.lateMs !== false && linkName !== "long-poll" && f.heartbeatMs > 0;
    // Dead-connection bound: missed heartbeats plus slack; a long-poll's answer may also be held.
    // Watched streams use the tighter quiet bound: quiet means switch down, not only reconnect.
    deadMs = f.heartbeatMs > 0
      ? linkName === "long-poll" ? (f.holdMs ?? 0) + f.heartbeatMs + 5000 : watched ? neg.quietFactor * f.heartbeatMs + 1000 : 2 * f.heartbeatMs + 5000
      : 0;
    deadTimer = clearTimer(deadTimer);
    lastFrameAt = clock.now();
    if (deadMs > 0) deadTimer = clock.setTimeout(checkDead, deadMs);
    watch = undefined;
    if (watched) {
      watch = new HeartbeatWatch(f.heartbeatMs, { lateMs: neg.lateMs || Math.max(1000, f.heartbeatMs / 2), burstPairs: neg.burstPairs });
      watch.start(f.time, clock.now());
    }
    const previous = transport;
    transport = linkName!;
    const wasOpen = state === OPEN;
    state = OPEN;
    if (neg.memory && neg.rememberMs !== false) neg.memory.set(o.url, transport, clock.now());
    scheduleClimb();
    if (previous !== transport) events.emit("transport", { transport, previous });
    if (g !== gen) return;
    if (!wasOpen) {
      events.emit("state", OPEN);
      if (g !== gen) return;
      events.emit("open", { transport, session });
      if (g !== gen) return;
    }
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

  /**
   * Connecting: a message from an attempt still being proven reaches the app at once, so proof
   * costs no time to first message. Safe whatever the race decides: every attempt's stream is
   * contiguous from the cursor it started with, and the winner's overlap is dropped by cursor.
   */
  const onEarly = (f: MessageFrame) => {
    if (state === CONNECTING) onMessage(f);
  };
  /** Bumped by every connect attempt: an early-delivery callback of an older one is stale. */
  let earlyToken = 0;

  const onFrame = (f: ServerFrame, g: number) => {
    lastFrameAt = clock.now();
    if (f.type === "hello") return onHello(f, g);
    if (f.type === "close") {
      drop();
      return onClose({ code: f.code, reason: f.reason });
    }
    if (awaitingHello) return; // nothing but hello or close may come first
    switch (f.type) {
      case "message":
        return onMessage(f);
      case "gap":
        // Older than what the app already has (another link of a race or switch delivered past
        // it, contiguously): nothing is missing, and moving the cursor back would duplicate.
        if (cursor !== null && f.cursor !== cursor && isStale(f.cursor, cursor)) return;
        cursor = f.cursor;
        return events.emit("gap", f);
      case "heartbeat": {
        const v = watch && watch.beat(f.time, clock.now());
        if (v && v.degraded) background(switchDown(v.reason));
        return;
      }
      case "probe":
        return; // proof is the candidate's business (probe.ts); a late probe means nothing
    }
  };

  /** The adopted link ended (attempts before adoption end in their candidate, probe.ts). */
  const onClose = (info: CloseInfo) => {
    if (linkName) {
      const now = clock.now();
      record({ transport: linkName, purpose: "connect", outcome: "lost", startedAt: now, endedMs: 0, reason: info.error ? info.error.message : `closed ${info.code} ${info.reason}`.trim(), error: info.error });
    }
    lost(info);
  };

  /** An open connection ended: reconnect, or close for good. */
  const lost = (info: CloseInfo) => {
    drop();
    watch = undefined;
    stopBackground();
    if (!o.reconnect || info.fatal || !closeReconnects(info.code)) return finish(info);
    const g = gen;
    if (info.code === 4404) session = null; // expected and healed at once: not an error
    else if (info.error) events.emit("error", info.error);
    if (g !== gen) return;
    setState(CONNECTING);
    if (g !== gen) return;
    void backoff().then(start);
  };

  const backoff = () =>
    new Promise<void>((resolve) => {
      const r = o.reconnect;
      const delay = backoffDelay(failures++, retryMs ?? (r ? r.minDelayMs : 0), r ? r.maxDelayMs : 0);
      wake = resolve;
      // Offline (browsers): no timer, an attempt could only fail; `online` ends the wait.
      if (isOffline()) return;
      wakeTimer = clock.setTimeout(() => {
        wakeTimer = wake = undefined;
        resolve();
      }, delay);
    });

  /** Keeps an attempt record and emits it as the `attempt` event. */
  const record = (r: AttemptRecord) => {
    diagnostics.add(r); // freezes it
    events.emit("attempt", r);
  };

  /** Starts one candidate attempt of `name` (see probe.ts). */
  const opener = (purpose: AttemptPurpose, requireProof: boolean) => {
    let opened = 0;
    return (name: TransportName): Candidate => {
      let early: ((f: MessageFrame) => void) | undefined;
      if (purpose === "connect") {
        // Only the round's first attempt delivers early, and only until a second one opens: that
        // one opens from the cursor as it is then (or live, with none), so everything after
        // what the app has is in its stream.
        const token = ++earlyToken;
        if (++opened === 1) early = (f) => token === earlyToken && onEarly(f);
      }
      return openCandidate(name, factories[name]!, ctx, { timeoutMs: Math.min(neg.proofTimeoutMs, o.connectTimeoutMs), requireProof, purpose, clock, early }, (r) => {
        record(r);
        // Connecting reports each failed attempt as before; background attempts only in diagnostics.
        // An expired session is an expected step of resuming, healed at once: not an error.
        // (Only failures carry an error: proven and cancelled attempts never do.)
        if (purpose === "connect" && r.error && r.error.code !== "TL_UNKNOWN_SESSION") events.emit("error", r.error);
      });
    };
  };

  /** Makes a proven candidate the channel's link; the old link (if any) closes after the switch. */
  const adopt = (c: Candidate) => {
    const old = link;
    gen++;
    deadTimer = clearTimer(deadTimer);
    const g = gen;
    link = c.link;
    linkName = c.name;
    awaitingHello = true;
    const { frames, closed } = c.adopt({
      frame: (f) => {
        if (g === gen) onFrame(f, g);
      },
      close: (info) => {
        if (g === gen) onClose(info);
      },
    });
    // Without a code: the session survives on the new link (the server drops only this connection).
    if (old) old.close();
    // The candidate resumed from the cursor it started with; what the old link delivered since is
    // dropped by cursor in onMessage, so the overlap costs neither loss nor duplicates.
    for (const f of frames) {
      if (g !== gen) return;
      onFrame(f, g);
    }
    if (closed && g === gen) onClose(closed);
  };

  /** The order of a connect round: remembered first, degraded last. */
  const connectOrder = (): TransportName[] => {
    const order = neg.rememberMs !== false && neg.memory ? rememberedOrder(o.transports, neg.memory, o.url, clock.now(), neg.rememberMs) : [...o.transports];
    return [...order.filter((t) => !demoted.has(t)), ...order.filter((t) => demoted.has(t))];
  };

  /** Runs one race; `undefined` when another race is already running. */
  const runRace = async (order: readonly TransportName[], purpose: AttemptPurpose, requireProof: boolean): Promise<RaceResult | undefined> => {
    if (racing || order.length === 0) return undefined;
    const rc = race(order, opener(purpose, requireProof), neg.staggerMs, clock);
    racing = rc;
    const r = await rc.result;
    if (racing === rc) racing = undefined;
    return r;
  };

  /** While open: prove another transport in the background and switch to it. */
  const switchTo = async (order: readonly TransportName[], purpose: AttemptPurpose): Promise<RaceResult | undefined> => {
    if (state !== OPEN) return undefined;
    const r = await runRace(order, purpose, true);
    if (!r || r.kind !== "won") return r;
    if (state !== OPEN) {
      r.candidate.cancel();
      return { kind: "cancelled" };
    }
    adopt(r.candidate);
    return r;
  };

  /** Records a degraded transport: tried last from now on, and climbing back waits longer. */
  const degrade = (name: TransportName, reason: string) => {
    watch = undefined; // one verdict per connection
    demoted.add(name);
    climbFailures++;
    record({ transport: name, purpose: "switch-down", outcome: "degraded", startedAt: clock.now(), endedMs: 0, reason });
  };

  /** The watch found the link late or bursty: switch to a lower transport if one proves itself. */
  const switchDown = async (reason: string) => {
    const current = linkName;
    if (!current || state !== OPEN || racing) return;
    degrade(current, reason);
    const i = o.transports.indexOf(current);
    const order = [...o.transports.slice(i + 1), ...o.transports.slice(0, Math.max(0, i))].filter((t) => !demoted.has(t));
    // Nothing proven: stay; the quiet bound still catches a link that stops entirely.
    await switchTo(order, "switch-down");
  };

  /** After a fallback: re-probe the preferred transports in the background, with backoff. */
  const scheduleClimb = () => {
    climbTimer = clearTimer(climbTimer);
    if (neg.climbMinDelayMs === false || pinned || !linkName || !o.reconnect) return;
    if (o.transports.indexOf(linkName) <= 0) return;
    const delay = Math.min(neg.climbMaxDelayMs, neg.climbMinDelayMs * 2 ** Math.min(climbFailures, 30));
    climbTimer = clock.setTimeout(() => {
      climbTimer = undefined;
      background(climb());
    }, delay);
  };

  const climb = async () => {
    if (state !== OPEN || !linkName || pinned) return;
    if (racing) return scheduleClimb();
    const better = o.transports.slice(0, o.transports.indexOf(linkName));
    const r = await switchTo(better, "climb");
    if (r && r.kind === "won") {
      demoted.delete(r.candidate.name);
      return; // onHello scheduled the next climb if there is still a better one
    }
    if ((r && r.kind === "cancelled") || state !== OPEN) return;
    climbFailures++;
    scheduleClimb();
  };

  /** Connect rounds until open or closed, backing off between failed rounds. */
  const run = async (): Promise<void> => {
    while (state !== CLOSED) {
      const order = connectOrder();
      // One forced transport has nothing to fall back to: its hello is enough.
      const r = await runRace(order, "connect", o.transports.length > 1);
      if (!r || r.kind === "cancelled") return;
      if ((state as ReadyState) === CLOSED) {
        // Closed while the winner was being decided: it must not stay open (and buffering).
        if (r.kind === "won") r.candidate.cancel();
        return;
      }
      if (r.kind === "won") return adopt(r.candidate);
      if (r.kind === "new-session" && session !== null) {
        session = null;
        continue;
      }
      if (r.kind === "rejected") {
        // Only an authentication failure is worth a refresh: a 403 refuses who you are.
        const auth = r.info.code === 4401 || (r.info.error && r.info.error.status) === 401;
        // One token refresh (the token function runs again for the next request), then surface it.
        if (auth && typeof o.token === "function" && !refreshed) {
          refreshed = true;
          continue;
        }
        return finish(r.info, false, false, true);
      }
      // A remembered choice that failed is forgotten: the next round starts from the preferences.
      if (neg.memory) neg.memory.delete(o.url);
      const errors = r.kind === "failed" ? r.failures.flatMap((f) => (f.info.error ? [f.info.error] : [])) : [];
      const error = new ThroughlineError("TL_NO_TRANSPORT", `every transport failed (${order.join(", ")})${o.reconnect ? "; retrying" : ""}.`, { cause: errors });
      if (!o.reconnect) return finish(abnormal(error));
      events.emit("error", error);
      await backoff();
    }
  };

  /** Resolves at the next `open` (or at once if open); rejects when closed or after `ms`. */
  const whenOpen = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      if (state === OPEN) return resolve();
      const done = (err?: ThroughlineError) => {
        offOpen();
        offClose();
        clock.clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const offOpen = events.on("open", () => done());
      const offClose = events.on("close", () => done(new ThroughlineError("TL_CLOSED", "the channel closed.")));
      const timer = clock.setTimeout(() => done(new ThroughlineError("TL_CONNECT_TIMEOUT", `not connected within ${ms} ms.`)), ms);
    });

  /** Forced switch (ch.switchTransport): prove `name`, then switch without loss or duplicates. */
  const forceSwitch = async (name: TransportName): Promise<void> => {
    if (state === CLOSED) throw new ThroughlineError("TL_CLOSED", "the channel is closed.");
    if (!TRANSPORTS.includes(name) || !factories[name]) {
      throw new ThroughlineError("TL_INVALID_OPTION", `switchTransport: unknown transport ${JSON.stringify(String(name).slice(0, 40))} (use ${TRANSPORTS.join(", ")}).`);
    }
    pinned = true;
    climbTimer = clearTimer(climbTimer);
    const deadline = clock.now() + o.connectTimeoutMs;
    for (;;) {
      await whenOpen(Math.max(1, deadline - clock.now()));
      if (transport === name && linkName === name) return;
      const running = racing;
      if (!running) break;
      // A background race (climb, switch down) is running: let it settle first.
      await running.result;
    }
    const r = await switchTo([name], "forced");
    if (r && r.kind === "won") return;
    const cause = r && r.kind === "failed" ? r.failures.map((f) => f.info.error) : r;
    throw new ThroughlineError("TL_NO_TRANSPORT", `could not switch to ${name}: not proven (see ch.diagnostics).`, { cause });
  };
  /** A bug (or a throwing custom `memory`), not a network condition: end visibly instead of hanging. */
  const background = (work: Promise<unknown>) => {
    work.catch((cause: unknown) => {
      finish({ code: 1011, reason: "TL_INTERNAL", error: new ThroughlineError("TL_INTERNAL", "the client failed unexpectedly.", { cause }) });
    });
  };
  const start = () => background(run());
  /**
   * Browsers: reconnect promptly when the network comes back (`online` ends a backoff wait and
   * resets it), pause while offline (an open link is dropped: it cannot work, and the wait
   * then has no timer). Without `window` (Node), none of this exists.
   */
  const network = (globalThis as { window?: EventTarget }).window;
  function isOffline(): boolean {
    return typeof navigator !== "undefined" && (navigator as { onLine?: boolean }).onLine === false;
  }
  function onOnline(): void {
    failures = 0;
    const w = wake;
    if (!w) return;
    wakeTimer = wake = clearTimer(wakeTimer);
    w();
  }
  function onOffline(): void {
    if (state === OPEN) {
      lost(connectionLost("the browser went offline."));
    } else if (wake) wakeTimer = clearTimer(wakeTimer);
  }
  if (network && typeof network.addEventListener === "function") {
    network.addEventListener("online", onOnline);
    network.addEventListener("offline", onOffline);
  }
  queueMicrotask(start);

  const sendNow = async (data: unknown): Promise<void> => {
    const l = link;
    if (!l) throw new ThroughlineError("TL_SEND_FAILED", "the connection was lost before sending.");
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
    get diagnostics() {
      return diagnostics.list();
    },
    switchTransport: (name: TransportName) => forceSwitch(name),
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
