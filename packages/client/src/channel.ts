/**
 * The channel: one logical stream across reconnects, transport switches and rotations.
 *
 * The connection lifecycle is the state machine of lifecycle.ts (phases connecting, open,
 * waiting, closed; every transition in its one reducer); this file is its runner: it feeds the
 * machine events, performs the effects, owns the phase timer (the backoff wait) through the
 * injectable clock, and drives the modules around it: the link (the adopted transport and its
 * liveness), delivery.ts (cursor, dedupe, gaps), negotiate.ts (the race), watch.ts (heartbeat
 * watch), rotation.ts (learnt cuts, make-before-break) and when-open.ts (sends waiting for the open).
 *
 * A generation counter guards every transport callback (as centrifuge's `_transportId`): each
 * attempt, drop and close bumps it, so a replaced or closed transport can never deliver a frame
 * or report a close again. Network-driven events are emitted synchronously from the transport's
 * (already asynchronous) callbacks, keeping `open` before the messages that follow the hello;
 * events caused by an application call (`close()`) are emitted in a microtask, so listeners
 * never run re-entrantly inside that call.
 */
import {
  DEV,
  ThroughlineError,
  TRANSPORTS,
  closeReconnects,
  type HelloFrame,
  type GapFrame,
  type Message,
  type MessageFrame,
  type ServerFrame,
  type TransportName,
} from "@throughline/wire";
import { Emitter } from "./emitter.js";
import { messageIterator } from "./iterator.js";
import { MAX_DIAGNOSTICS, type AttemptPurpose, type AttemptRecord } from "./diagnostics.js";
import { isStale } from "./delivery.js";
import { ARM_WAIT, FINISH, START_ROUND, WAITING, state, transition, type LifecycleEffect, type LifecycleEvent, type LifecycleState } from "./lifecycle.js";
import { rememberedOrder } from "./memory.js";
import { race, type Race, type RaceResult } from "./negotiate.js";
import { closeError, openCandidate, type Candidate } from "./probe.js";
import { cutLearner } from "./rotation.js";
import { whenOpen } from "./when-open.js";
import { heartbeatWatch, type HeartbeatWatch } from "./watch.js";
import { CLOSED, CONNECTING, OPEN, type Channel, type ReadyState } from "./api.js";
import { DEFAULT_RECONNECT_OPTIONS, type ResolvedOptions } from "./options.js";
import { abnormal, connectionLost, type ClientTransport, type CloseInfo, type TransportContext } from "./transport.js";

const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? (Symbol.for("Symbol.asyncDispose") as typeof Symbol.asyncDispose);

/**
 * A session id to propose: 128 random bits as four decimal words joined by "-" (the server takes
 * any `[A-Za-z0-9_-]{1,64}`; shorter in a bundle than base64url), padded with "-" to the 22
 * characters a proposal needs (MIN_PROPOSED_SESSION_CHARS). The words end in a digit, so the
 * padding never makes two draws alike.
 */
const newSessionId = (): string => globalThis.crypto.getRandomValues(new Uint32Array(4)).join("-").padEnd(22, "-");

/** The long-poll scout starts this long after a first connect round unless the stream said hello sooner. */
const SCOUT_DELAY_MS = 50;

/** Creates a channel and starts connecting (in a microtask, after the caller attached listeners). */
export function createChannel(o: ResolvedOptions): Channel {
  const { clock, links } = o;
  const events = new Emitter();
  /** Browsers: `navigator.onLine`; without `navigator` (Node) always online. */
  const isOffline = () => typeof navigator !== "undefined" && (navigator as { onLine?: boolean }).onLine === false;
  let life: LifecycleState = state(CONNECTING, 0, isOffline());
  /** The readyState the listeners were last told (`state` events). */
  let announced: ReadyState = CONNECTING;
  /** The timer the current phase owns (the backoff wait of `waiting`); cleared on every phase change. */
  let phaseTimer: unknown;
  /**
   * Ends the current `waiting` phase (its continuation starts the next connect round): the wait's
   * promise resolver, so calling it again, or before any wait, does nothing.
   */
  let wake = (): void => {};
  let transport: TransportName | null = null;
  let session: string | null = null;
  /**
   * The session id this client proposes while it has none (issue #10, "one session from the
   * first request"): every attempt of the round names it, so the first request that reaches the
   * server creates it and every later attempt joins it. `undefined`: the server refused a
   * proposal (an older server): attempts go without one.
   */
  let proposed: string | undefined = newSessionId();
  /**
   * The resume cursor: the id of the last message delivered to the app. Only what is newer
   * reaches the app (delivery.ts), which merges overlapping links without loss or duplicate.
   */
  let cursor = o.cursor;
  /** Delivers `f` unless the app already has it. */
  const deliver = (f: MessageFrame) => {
    if (isStale(f.id, cursor)) return;
    cursor = f.id;
    const m: Message = { id: f.id, topic: f.topic, event: f.event, data: f.data };
    // A message is delivered to everyone (iterators listen on "*") as one step, even if a
    // listener closes the channel: an emit goes to the listeners it started with.
    events.emit("*", m);
    events.emit(m.event, m);
  };
  /** Signals a gap unless another link already delivered past it (moving the cursor back would duplicate). */
  const gap = (f: GapFrame) => {
    if (f.cursor !== cursor && isStale(f.cursor, cursor)) return;
    cursor = f.cursor;
    events.emit("gap", f);
  };
  /** Bumped by every attempt, drop and close: callbacks of older generations are ignored. */
  let gen = 0;
  let link: ClientTransport | undefined;
  let linkName: TransportName | undefined;
  /** When the adopted link said hello: its age at a cut teaches the rotation. */
  let linkOpenedAt = 0;
  /** Between adopting a proven link and processing its hello (replayed from the candidate). */
  let awaitingHello = false;
  /** The race in progress (connecting, switching down, climbing back, rotating, forced): one at a time. */
  let racing: Race | undefined;
  const neg = o.negotiation;
  /** The records of `ch.diagnostics`, oldest first (frozen; the oldest go past MAX_DIAGNOSTICS). */
  const diagnostics: AttemptRecord[] = [];
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
  let retryMs: number | undefined;
  const cuts = cutLearner();
  let rotateTimer: unknown;

  const announce = (s: ReadyState) => {
    if (announced === s) return;
    announced = s;
    events.emit("state", s);
  };

  /**
   * Clears a timer if one was ever set. Clearing a timer that already ran or was cleared does
   * nothing (as `clearTimeout`; the `Clock` contract), so the variables keep their last handle.
   */
  const clearTimer = (t: unknown) => {
    if (t !== undefined) clock.clearTimeout(t);
  };

  /** Feeds the lifecycle machine one event; a phase change ends the old phase's timer. */
  // Backoff bounds: without reconnects no backoff wait ever comes (the defaults only fill in).
  const backoff = o.reconnect || DEFAULT_RECONNECT_OPTIONS;
  const step = (e: LifecycleEvent): LifecycleEffect => {
    const [next, effect] = transition(life, e, retryMs ?? backoff.minDelayMs, backoff.maxDelayMs);
    if (next.phase !== life.phase) clearTimer(phaseTimer);
    life = next;
    return effect;
  };

  /** Arms the `waiting` phase's timer (none while offline: `online` ends that wait). */
  const armWait = () => {
    clearTimer(phaseTimer);
    const ms = life.waitMs;
    if (ms === undefined) return;
    phaseTimer = clock.setTimeout(() => {
      if (step({ type: "wake" }) === START_ROUND) wake();
    }, ms);
  };
  /** Resolves when the `waiting` phase ends (its timer, `online`, or close). */
  const waitEnd = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
      armWait();
    });

  // The options the transports read (url, topics, fetch, WebSocket, clock, connectTimeoutMs) as
  // they are; the live state and the per-request headers below.
  const ctx: TransportContext = {
    ...o,
    get session() {
      return session ?? proposed ?? null;
    },
    get propose() {
      return session === null && proposed !== undefined;
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
        throw new ThroughlineError("TL_CONNECT_FAILED", DEV ? "the token function failed." : "token", { cause });
      }
      if (token) h.authorization = `Bearer ${token}`;
      return h;
    },
  };

  /**
   * Drops the current link and what watches it (timers, heartbeat watch) and the background work
   * for it: the climb-back timer and any race (climb, switch down, rotation; when a race's winner
   * is adopted, that race is over). With a `code`, the link says goodbye (ending the server session).
   */
  const drop = (code?: number) => {
    gen++;
    clearTimer(deadTimer);
    clearTimer(rotateTimer);
    clearTimer(climbTimer);
    watch = undefined;
    const l = link;
    link = linkName = undefined;
    if (l) l.close(code);
    const r = racing;
    racing = undefined;
    if (r) r.cancel();
  };

  /**
   * Closes for good. `byApp`: `close()` was called: the link says goodbye (the server ends the
   * session) and the events come in a microtask, not inside the call. `reported`: the error was
   * already emitted (a failed attempt), so the final close does not emit it twice.
   */
  const finish = (info: CloseInfo, byApp = false, reported = false) => {
    if (step({ type: "close" }) !== FINISH) return;
    offNetwork.abort(); // the online/offline listeners
    drop(byApp ? 1000 : undefined);
    stopScout();
    announced = CLOSED;
    wake();
    const error = info.error ?? (info.code === 1000 ? undefined : closeError(info.code, info.reason));
    const fire = () => {
      events.emit("state", CLOSED);
      if (error && !reported) events.emit("error", error);
      events.emit("close", error ? { code: info.code, reason: info.reason, error } : { code: info.code, reason: info.reason });
    };
    if (byApp) queueMicrotask(fire);
    else fire();
  };

  const checkDead = () => {
    const idle = clock.now() - lastFrameAt;
    if (idle < deadMs) {
      deadTimer = clock.setTimeout(checkDead, deadMs - idle);
      return;
    }
    const info = connectionLost(DEV ? `no frame (not even a heartbeat) for ${Math.round(idle)} ms.` : `quiet ${Math.round(idle)} ms`);
    // Quiet past the heartbeat bound: switch down (this transport is tried last from now on).
    // (The timer is the current link's: drop() clears it.)
    if (watch) degrade(info.error!.message);
    lost(info);
  };

  const onHello = (f: HelloFrame, g: number) => {
    session = f.session; // a repeated hello on an open link: only the session can matter
    if (!awaitingHello) return;
    awaitingHello = false;
    cursor ??= f.cursor;
    retryMs = f.retryMs >= 0 ? f.retryMs : undefined;
    refreshed = false;
    // The transport's liveness rule: a stream is watched; a poll's answer may also be held.
    const stream = links[linkName!]!.stream;
    const watched = neg.lateMs !== false && stream && f.heartbeatMs > 0;
    // Dead-connection bound: missed heartbeats plus slack. Watched streams use the tighter quiet
    // bound: quiet means switch down, not only reconnect.
    deadMs = f.heartbeatMs > 0
      ? !stream ? (f.holdMs ?? 0) + f.heartbeatMs + 5000 : watched ? neg.quietFactor * f.heartbeatMs + 1000 : 2 * f.heartbeatMs + 5000
      : 0;
    // (The adoption's drop() ended the previous link's timer and watch.)
    lastFrameAt = linkOpenedAt = clock.now();
    if (deadMs > 0) deadTimer = clock.setTimeout(checkDead, deadMs);
    if (watched) {
      watch = heartbeatWatch(f.heartbeatMs, neg.lateMs || Math.max(1000, f.heartbeatMs / 2), neg.burstPairs, f.time, clock.now());
    }
    const previous = transport;
    transport = linkName!;
    const wasOpen = life.phase === OPEN;
    step({ type: "opened" });
    if (neg.memory) neg.memory.set(o.url, transport, clock.now()); // none with rememberMs: false
    scheduleClimb();
    scheduleRotation();
    if (previous !== transport) events.emit("transport", { transport, previous });
    if (g !== gen || wasOpen) return;
    announce(OPEN);
    // The open event also lets the sends (and a forced switch) waiting for it go (when-open.ts).
    if (g === gen) events.emit("open", { transport, session });
  };

  /**
   * Connecting: a message from an attempt still being proven reaches the app at once, so proof
   * costs no time to first message. Safe whatever the race decides: every attempt's stream is
   * contiguous from the cursor it started with, and the winner's overlap is dropped by cursor.
   */
  const onEarly = (f: MessageFrame) => {
    if (life.phase === CONNECTING) deliver(f);
  };

  const onFrame = (f: ServerFrame, g: number) => {
    lastFrameAt = clock.now();
    if (f.type === "hello") return onHello(f, g);
    if (f.type === "close") {
      drop();
      return onClose({ code: f.code, reason: f.reason });
    }
    if (awaitingHello) return; // nothing but hello or close may come first
    if (f.type === "message") deliver(f);
    else if (f.type === "gap") gap(f);
    else if (f.type === "heartbeat") {
      const degraded = watch && watch(f.time, clock.now());
      if (degraded) background(switchDown(degraded));
    }
    // A probe: proof is the candidate's business (probe.ts); a late probe means nothing.
  };

  /** The adopted link ended (attempts before adoption end in their candidate, probe.ts). */
  const onClose = (info: CloseInfo) => {
    if (linkName) {
      record({ transport: linkName, purpose: "connect", outcome: "lost", startedAt: clock.now(), endedMs: 0, reason: info.error ? info.error.message : `closed ${info.code} ${info.reason}`.trim(), error: info.error });
    }
    lost(info);
  };

  /** An open connection ended: resume at once if it was healthy, else after a backoff; or close for good. */
  const lost = (info: CloseInfo) => {
    const age = clock.now() - linkOpenedAt;
    const name = linkName;
    drop();
    if (!o.reconnect || info.fatal || !closeReconnects(info.code)) return finish(info);
    // Cut without a close code: maybe a proxy's fixed duration (rotation.ts learns it).
    const serverClose = info.code !== 1006;
    if (!serverClose && name && links[name]!.stream) cuts.cut(age);
    reconnect(info, step({ type: "lost", openMs: age, serverClose }));
  };

  /** After the link went: tell the app, then start a round now or after the wait. */
  const reconnect = (info: CloseInfo, effect: LifecycleEffect) => {
    const g = gen;
    if (info.code === 4404) newSession(); // expected and healed at once: not an error
    else if (info.error) events.emit("error", info.error);
    if (g !== gen) return;
    announce(CONNECTING);
    if (g !== gen) return;
    if (effect === START_ROUND) start();
    else void waitEnd().then(start);
  };

  /** The session is gone (4404): the next round proposes a fresh id (unless proposals were refused). */
  const newSession = () => {
    session = null;
    if (proposed !== undefined) proposed = newSessionId();
  };

  /** Keeps an attempt record and emits it as the `attempt` event. */
  const record = (r: AttemptRecord) => {
    diagnostics.push(Object.freeze(r)); // the app's listeners get it frozen too
    if (diagnostics.length > MAX_DIAGNOSTICS) diagnostics.shift();
    events.emit("attempt", r);
  };

  /**
   * The first connect round (issue #10, "first message fast everywhere"): a long-poll raced
   * alongside the stream from the start. Its first poll is answered at once and its next one as
   * soon as a message is published, so behind a proxy that holds the stream the first message
   * arrives as fast as a polling-first client's; its messages reach the app at once (merged by
   * cursor with the stream's), and it is dropped when the race ends: the channel ends on the
   * streaming transport that wins. Only with an accepted session proposal: the scout and the
   * stream then start from the same point of the session, which makes the merge exact. It starts
   * `SCOUT_DELAY_MS` after the round, and not at all when the first attempt's hello came sooner
   * (a healthy network pays no extra request, and the stream's proof has the client to itself).
   */
  let scout: Candidate | undefined;
  let scoutTimer: unknown;
  /** One scout per channel: its first round (a retry after a failed round goes without). */
  let scouted = false;
  const openScout = (order: readonly TransportName[]): Candidate | undefined => {
    // Never connected (so no session yet either), proposing, and long-poll listed but not first.
    if (scouted || transport !== null || proposed === undefined || order[0] === "long-poll" || !order.includes("long-poll")) return undefined;
    // Delivers until cancelled (a cancelled candidate passes nothing on): unlike a second race
    // attempt it never starts live, so later attempts opening do not stop it.
    scouted = true;
    return openCandidate(links["long-poll"]!, ctx, { timeoutMs: o.connectTimeoutMs, _requireProof: true, purpose: "scout", _early: onEarly }, record);
  };
  const stopScout = () => {
    clearTimer(scoutTimer);
    const c = scout;
    scout = undefined;
    if (c) c.cancel();
  };

  /** Starts one candidate attempt of `name` (see probe.ts). */
  const opener = (purpose: AttemptPurpose) => {
    let opened = 0;
    return (name: TransportName): Candidate => {
      // The race's own long-poll attempt replaces the scout (one long-poll per session).
      if (name === "long-poll") stopScout();
      // Only the round's first attempt delivers early, and only until a second one opens: that
      // one opens from the cursor as it is then (or live, with none), so everything after what
      // the app has is in its stream. (An older round's attempts were all cancelled.)
      const early = purpose === "connect" && ++opened === 1 && ((f: MessageFrame) => opened === 1 && onEarly(f));
      // The round's first attempt answered: no scout is needed.
      const hello = early && (() => clearTimer(scoutTimer));
      // Proof is required but when connecting with one forced transport: with nothing to fall
      // back to, its hello is enough.
      return openCandidate(links[name]!, ctx, { timeoutMs: Math.min(neg.proofTimeoutMs, o.connectTimeoutMs), _requireProof: purpose !== "connect" || o.transports.length > 1, purpose, _early: early, hello }, (r) => {
        record(r);
        // Connecting reports each failed attempt as before; background attempts only in diagnostics.
        // An expired session is an expected step of resuming, healed at once: not an error.
        // (Only failures carry an error: proven and cancelled attempts never do.)
        if (purpose === "connect" && r.error && r.error.code !== "TL_UNKNOWN_SESSION") events.emit("error", r.error);
      });
    };
  };

  /** Makes a proven candidate the channel's link, dropping the old one (if any) first. */
  const adopt = (c: Candidate) => {
    // A link that outlived a learnt cut (a rotation was not possible) unlearns it (rotation.ts).
    if (link) cuts.survived(clock.now() - linkOpenedAt);
    // Make-before-break: the new link is proven (and holds its catch-up) before the old one goes.
    // Without a code: the session survives on the new link (the server drops only this connection).
    drop();
    const g = gen;
    link = c.link;
    linkName = c.name;
    awaitingHello = true;
    // The candidate replays what it kept (the hello first; a replayed close or a switch bumps the
    // generation, so the rest is ignored), then passes on what comes. It resumed from the cursor
    // it started with; what the old link delivered since is dropped by cursor (delivery.ts), so
    // the overlap costs neither loss nor duplicates.
    c._adopt({
      frame: (f) => {
        if (g === gen) onFrame(f, g);
      },
      close: (info) => {
        if (g === gen) onClose(info);
      },
    });
  };

  /** The order of a connect round: remembered first, degraded last. */
  const connectOrder = (): TransportName[] => {
    // Without a memory, the preference order (a copy); with one, rememberMs is a number (options.ts).
    const order = rememberedOrder(o.transports, neg.memory, o.url, clock.now(), neg.rememberMs as number);
    // Stable sort (ES2019): the demoted move last, each group keeping its order. (`order` is a fresh array.)
    return order.sort((a, b) => +demoted.has(a) - +demoted.has(b));
  };

  /** Runs one race; `undefined` when another race is already running. */
  const runRace = async (order: readonly TransportName[], purpose: AttemptPurpose): Promise<RaceResult | undefined> => {
    if (racing) return undefined;
    const rc = race(order, opener(purpose), neg.staggerMs, clock);
    racing = rc;
    const r = await rc.result;
    if (racing === rc) racing = undefined;
    return r;
  };

  /**
   * While open (every caller runs on an open link): prove another link in the background and
   * switch to it (make-before-break).
   */
  const switchTo = async (order: readonly TransportName[], purpose: AttemptPurpose): Promise<RaceResult | undefined> => {
    const r = await runRace(order, purpose);
    if (!r || r.kind !== "won") return r;
    // (Checked here, in the same step as the adoption: the channel may have moved on meanwhile.)
    if (life.phase !== OPEN) {
      r._candidate.cancel();
      return { kind: "cancelled" };
    }
    adopt(r._candidate);
    return r;
  };

  /** Records the link's transport as degraded: tried last from now on, and climbing back waits longer. */
  const degrade = (reason: string) => {
    const name = linkName!; // (only while watched: on a link)
    watch = undefined; // one verdict per connection
    demoted.add(name);
    climbFailures++;
    record({ transport: name, purpose: "switch-down", outcome: "degraded", startedAt: clock.now(), endedMs: 0, reason });
  };

  /**
   * The watch found the link late or bursty: switch to a lower transport if one proves itself.
   * (A watch exists only on an open link: drop() ends it.)
   */
  const switchDown = async (reason: string) => {
    if (racing) return;
    degrade(reason);
    const i = o.transports.indexOf(linkName!);
    // The ones after it, then those before (it is demoted now, so the filter drops it; a forced
    // transport that is not listed has i = -1: all of them).
    const order = [...o.transports.slice(i + 1), ...o.transports.slice(0, i + 1)].filter((t) => !demoted.has(t));
    // Nothing proven: stay; the quiet bound still catches a link that stops entirely.
    await switchTo(order, "switch-down");
  };

  /**
   * After a fallback: re-probe the preferred transports in the background, with backoff. (Called
   * on a link: from its hello, or a climb.)
   */
  const scheduleClimb = () => {
    clearTimer(climbTimer);
    if (neg.climbMinDelayMs === false || pinned || !o.reconnect || o.transports.indexOf(linkName!) <= 0) return;
    const delay = Math.min(neg.climbMaxDelayMs, neg.climbMinDelayMs * 2 ** Math.min(climbFailures, 30));
    climbTimer = clock.setTimeout(() => background(climb()), delay);
  };

  /** From the climb timer only: open, on a link, not pinned (drop() and a forced switch clear it). */
  const climb = async () => {
    if (racing) return scheduleClimb();
    const better = o.transports.slice(0, o.transports.indexOf(linkName!));
    const r = await switchTo(better, "climb");
    if (r && r.kind === "won") {
      demoted.delete(r._candidate.name);
      return; // onHello scheduled the next climb if there is still a better one
    }
    if ((r && r.kind === "cancelled") || life.phase !== OPEN) return;
    climbFailures++;
    scheduleClimb();
  };

  /** A learnt fixed-duration cut: replace the link before the proxy cuts it (rotation.ts). */
  const scheduleRotation = () => {
    clearTimer(rotateTimer);
    const ms = cuts._rotateAfterMs();
    if (ms === undefined || !o.reconnect || !links[linkName!]!.stream) return; // (from the link's hello)
    rotateTimer = clock.setTimeout(() => {
      // Still this link (drop() clears the timer). A race in progress (climb, switch down)
      // replaces the link anyway.
      if (!racing) background(switchTo([linkName!], "rotate"));
    }, ms);
  };

  /** Connect rounds until open or closed, backing off between failed rounds. */
  const run = async (): Promise<void> => {
    while (life.phase !== CLOSED) {
      const order = connectOrder();
      // The scout starts only if the stream has not said hello by then (see openScout).
      scoutTimer = clock.setTimeout(() => (scout = openScout(order)), SCOUT_DELAY_MS);
      const r = await runRace(order, "connect");
      stopScout();
      if (!r || r.kind === "cancelled") return;
      if ((life.phase as number) === CLOSED) {
        // Closed while the winner was being decided: it must not stay open (and buffering).
        if (r.kind === "won") r._candidate.cancel();
        return;
      }
      if (r.kind === "won") return adopt(r._candidate);
      if (r.kind === "new-session") {
        // Our session expired: start a new one. A refused proposal (an older server answers 404
        // to an id it does not know): stop proposing.
        if (session === null) proposed = undefined;
        else newSession();
        continue;
      }
      if (r.kind === "rejected") {
        // Only an authentication failure is worth a refresh: a 403 refuses who you are. (A marked
        // HTTP 401 is close code 4401, http.ts; only it makes a rejection of that code.)
        const auth = r.info.code === 4401;
        // One token refresh (the token function runs again for the next request), then surface it.
        if (auth && typeof o.token === "function" && !refreshed) {
          refreshed = true;
          continue;
        }
        return finish(r.info, false, true);
      }
      // A remembered choice that failed is forgotten: the next round starts from the preferences.
      if (neg.memory) neg.memory.delete(o.url);
      // Every attempt failed (the other outcomes returned or continued above).
      // Its cause: the errors of the failures that have one.
      const error = new ThroughlineError("TL_NO_TRANSPORT", DEV ? `every transport failed (${order.join(", ")})${o.reconnect ? "; retrying" : ""}.` : order.join(), {
        cause: r.failures.flatMap((f) => (f.info.error ? [f.info.error] : [])),
      });
      if (!o.reconnect) return finish(abnormal(error));
      events.emit("error", error);
      if (step({ type: "round-failed" }) !== ARM_WAIT) return;
      await waitEnd();
    }
  };

  /** Forced switch (ch.switchTransport): prove `name`, then switch without loss or duplicates. */
  const forceSwitch = async (name: TransportName): Promise<void> => {
    if (life.phase === CLOSED) throw new ThroughlineError("TL_CLOSED", DEV ? "the channel is closed." : "");
    if (!TRANSPORTS.includes(name) || !links[name]) {
      // (Quoted in each arm, as options.ts does a bad topic: no variable in a production bundle.)
      throw new ThroughlineError("TL_INVALID_OPTION", DEV ? `switchTransport: unknown transport ${JSON.stringify(String(name).slice(0, 40))} (use ${TRANSPORTS.join(", ")}).` : JSON.stringify(String(name).slice(0, 40)));
    }
    pinned = true;
    clearTimer(climbTimer);
    const deadline = clock.now() + o.connectTimeoutMs;
    for (;;) {
      // Wait for the next open (TL_CONNECT_TIMEOUT past the deadline, TL_CLOSED if it closes).
      if (life.phase !== OPEN) await whenOpen(events, clock, () => {}, Math.max(1, deadline - clock.now()), "TL_CONNECT_TIMEOUT");
      if (linkName === name) return; // (open: the link's hello made it the transport too)
      const running = racing;
      if (!running) break;
      // A background race (climb, switch down, rotation) is running: let it settle first.
      await running.result;
    }
    const r = await switchTo([name], "forced");
    if (r && r.kind === "won") return;
    // The cause: the failures' errors, or the race's other result (cancelled, rejected, none).
    throw new ThroughlineError("TL_NO_TRANSPORT", DEV ? `could not switch to ${name}: not proven (see ch.diagnostics).` : name, {
      cause: r && r.kind === "failed" ? r.failures.map((f) => f.info.error) : r,
    });
  };
  /** A bug (or a throwing custom `memory`), not a network condition: end visibly instead of hanging. */
  const background = (work: Promise<unknown>) => {
    work.catch((cause: unknown) => {
      finish({ code: 1011, reason: "TL_INTERNAL", error: new ThroughlineError("TL_INTERNAL", DEV ? "the client failed unexpectedly." : "", { cause }) });
    });
  };
  const start = () => background(run());
  /**
   * Browsers: reconnect promptly when the network comes back (`online` ends a backoff wait and
   * resets it), pause while offline (an open link is dropped: it cannot work, and the wait
   * then has no timer). Without `window` (Node), none of this exists.
   */
  const network = (globalThis as { window?: EventTarget }).window;
  /** Removes the listeners below when the channel closes (finish). */
  const offNetwork = new AbortController();
  if (network && typeof network.addEventListener === "function") {
    const signal = { signal: offNetwork.signal };
    network.addEventListener("online", () => {
      if (step({ type: "online" }) === START_ROUND) wake();
    }, signal);
    network.addEventListener("offline", () => {
      const wasOpen = life.phase === OPEN;
      const effect = step({ type: "offline" });
      if (effect === ARM_WAIT) return armWait();
      if (!wasOpen) return;
      drop();
      reconnect(connectionLost(DEV ? "the browser went offline." : "offline"), effect);
    }, signal);
  }
  queueMicrotask(start);

  const sendNow = async (data: unknown): Promise<void> => {
    const l = link;
    if (!l) throw new ThroughlineError("TL_SEND_FAILED", DEV ? "the connection was lost before sending." : "");
    try {
      await l.send([{ type: "message", data }]);
    } catch (e) {
      throw e instanceof ThroughlineError ? e : new ThroughlineError("TL_SEND_FAILED", DEV ? "the message could not be sent." : "", { cause: e });
    }
  };

  const channel = {
    url: o.url,
    get transport() {
      return transport;
    },
    get readyState() {
      // WAITING (3) reads as CONNECTING (0); every other phase is its readyState (lifecycle.ts).
      return (life.phase % WAITING) as ReadyState;
    },
    get session() {
      return session;
    },
    get cursor() {
      return cursor;
    },
    get diagnostics() {
      return Object.freeze([...diagnostics]);
    },
    switchTransport: forceSwitch,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    on(event: string, fn: (arg: any) => void) {
      if (typeof fn !== "function") throw new ThroughlineError("TL_INVALID_OPTION", DEV ? `the listener for "${String(event)}" must be a function.` : String(event));
      return events.on(event, fn);
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    off(event: string, fn: (arg: any) => void) {
      events.off(event, fn);
    },
    // Async: a refusal is a rejected promise, never a throw.
    async send(data: unknown): Promise<void> {
      if (life.phase === CLOSED) throw new ThroughlineError("TL_CLOSED", DEV ? "the channel is closed." : "");
      const t = typeof data;
      if (data === undefined || t === "function" || t === "symbol" || t === "bigint") {
        throw new ThroughlineError("TL_BAD_DATA", DEV ? `cannot send ${t}: send JSON-serializable data.` : t);
      }
      return life.phase === OPEN ? sendNow(data) : whenOpen(events, clock, () => sendNow(data), o.connectTimeoutMs, "TL_SEND_FAILED");
    },
    close() {
      finish({ code: 1000, reason: "closed by the client" }, true);
    },
    // Resolves after the deferred close event has been emitted: close() queued it (a microtask)
    // before this promise settled, so it runs before whatever awaits this one.
    async [asyncDispose](): Promise<void> {
      channel.close();
    },
    [Symbol.asyncIterator](): AsyncIterator<Message> {
      // An iterator is a listener of messages and of the close (which ends it once drained).
      const it = messageIterator(() => {
        offMessage();
        offClose();
      });
      const offMessage = events.on("*", it.push);
      const offClose = events.on("close", it.end);
      if (life.phase === CLOSED) it.end();
      return it;
    },
  };
  return channel as Channel;
}
