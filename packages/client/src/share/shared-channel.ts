/**
 * One Throughline connection for every tab of an origin (per endpoint). The tabs elect a leader
 * with a Web Lock; the leader runs `connect()` for the union of every tab's topics and broadcasts
 * what arrives over a BroadcastChannel; each tab delivers only its own topics, in order, once.
 *
 * - Leader closed or crashed: the browser releases its lock, the next queued tab gets it and
 *   resumes from its cursor (the id of the last message it saw on the shared stream).
 * - Leader frozen or hung (it still holds the lock): followers that hear nothing for `stallMs`
 *   — pings are answered from a message handler, so a merely throttled background leader still
 *   answers — steal the lock (`steal: true`). The woken old leader finds its lock request
 *   rejected (or a higher term) and steps down, closing its connection.
 * - Auth: only the leader connects, with the options (and `token`) of its own `share()` call;
 *   tokens never travel between tabs. Every tab passes the same options.
 */
import { DEV, ThroughlineError, type GapFrame, type Message } from "@throughline/wire";
import { CLOSED, CONNECTING, type Channel, type ReadyState } from "../api.js";
import { connect } from "../connect.js";
import { Emitter } from "../emitter.js";
import { DEFAULT_CONNECT_OPTIONS, SYSTEM_CLOCK, resolveOptions } from "../options.js";
import { BUILT_IN } from "../transports/built-in.js";
import { createTabDelivery, unionTopics } from "./delivery.js";
import { resolveShare, type ShareOptions } from "./options.js";
import { shareNames, type ShareMessage } from "./protocol.js";
import { workerChannel } from "./worker-channel.js";

/** A channel shared by the tabs of an origin. */
export interface SharedChannel {
  readonly url: string;
  /** The leader's channel state (CONNECTING while there is no leader). */
  readonly readyState: ReadyState;
  /** Whether this tab holds the connection. */
  readonly isLeader: boolean;
  /** The id of the last message seen on the shared stream. */
  readonly cursor: string | null;
  /** Messages of this tab's topics by event name; `"*"` for all. */
  on(event: string, fn: (msg: Message) => void): () => void;
  on(event: "gap", fn: (gap: GapFrame) => void): () => void;
  on(event: "state", fn: (state: ReadyState) => void): () => void;
  /** This tab became (true) or stopped being (false) the leader. */
  on(event: "leader", fn: (isLeader: boolean) => void): () => void;
  off(event: string, fn: (arg: never) => void): void;
  /**
   * Sends through the leader's connection. Rejects TL_SEND_FAILED when no leader confirms within
   * `connectTimeoutMs` or the leader changes before confirming (it may or may not have been sent).
   */
  send(data: unknown): Promise<void>;
  /** Leaves: closes the connection if this tab leads (another tab takes over). Idempotent. */
  close(): void;
}

interface Lead {
  readonly gen: number;
  readonly term: number;
  readonly release: () => void;
  ch: Channel;
  topics: string;
}

interface PendingSend {
  readonly data: unknown;
  readonly resolve: () => void;
  readonly reject: (e: ThroughlineError) => void;
  readonly timer: unknown;
  /** The leader tab it was posted to; null: not posted yet (no leader known). */
  leader: string | null;
}

const randomId = () => Math.random().toString(36).slice(2, 12);

/**
 * Opens (or joins) the connection shared by this origin's tabs: through the `worker` script where
 * `SharedWorker` exists, else with a Web Locks leader tab. Without either (old browsers, Node)
 * each caller gets its own connection, with the same API.
 * @throws ThroughlineError TL_INVALID_OPTION, TL_BAD_TOPIC for bad options
 */
export function share(url: string, options: ShareOptions = {}): SharedChannel {
  // The share options are checked here; the rest like connect()'s (unknown names refused there).
  const { worker: _w, SharedWorker: _s, BroadcastChannel: _b, locks: _l, beatMs: _bm, stallMs: _sm, name: _n, ...connectOptions } = options;
  const s = resolveShare(options);
  const resolved = resolveOptions(url, connectOptions, BUILT_IN);
  const clock = options.clock ?? SYSTEM_CLOCK;
  const topics = [...(options.topics ?? DEFAULT_CONNECT_OPTIONS.topics)];
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_OPTIONS.connectTimeoutMs;
  if (s.worker !== undefined && s.SharedWorker) {
    const key = s.name ?? resolved.url;
    const { SharedWorker: Worker, worker: script } = s;
    const worker = () => new Worker(script, { name: "throughline-share" });
    return workerChannel({ url: resolved.url, key, worker, beatMs: s.beatMs, stallMs: s.stallMs, topics, options: connectOptions, clock, connectTimeoutMs });
  }
  const emitter = new Emitter();
  const delivery = createTabDelivery(topics, options.cursor ?? null);
  const tab = randomId();
  const names = shareNames(resolved.url, s.name);
  const bc = s.BroadcastChannel && s.locks ? new s.BroadcastChannel(names.channel) : undefined;
  const locks = s.locks;
  const known = new Map<string, readonly string[]>([[tab, topics]]);
  const pending = new Map<number, PendingSend>();
  // Each tab waits a little longer than stallMs, by a random share of a beat, so that usually
  // one follower steals and the others hear its `lead` first.
  const stallAfter = s.stallMs + Math.random() * s.beatMs;
  let term = 0;
  let leaderTab: string | null = null;
  let lastHeard = clock.now();
  let state: ReadyState = CONNECTING;
  let closed = false;
  let lead: Lead | null = null;
  let queued: AbortController | null = null;
  let lockGen = 0;
  let reqSeq = 0;
  let timer: unknown;

  const post = (m: ShareMessage) => bc?.postMessage(m);
  const setState = (next: ReadyState) => {
    if (next === state) return;
    state = next;
    emitter.emit("state", next);
  };
  const deliver = (m: Message) => {
    const d = delivery.message(m);
    if (!d) return;
    emitter.emit(d.event, d);
    emitter.emit("*", d);
  };
  const deliverGap = (g: GapFrame) => {
    if (delivery.gap(g)) emitter.emit("gap", g);
  };
  const beat = () => {
    if (lead) post({ k: "beat", term: lead.term, tab, state });
  };

  // --- leader role -------------------------------------------------------------------------

  const open = (l: Lead | null, union: string[]): Channel => {
    const cursor = delivery.cursor ?? options.cursor;
    const ch = connect(resolved.url, { ...connectOptions, topics: union, ...(cursor ? { cursor } : {}) });
    const current = () => lead === l && lead?.ch === ch;
    ch.on("*", (m: Message) => {
      if (!current()) return;
      post({ k: "msg", term: lead!.term, tab, m });
      deliver(m);
    });
    ch.on("gap", (g: GapFrame) => {
      if (!current()) return;
      post({ k: "gap", term: lead!.term, tab, g });
      deliverGap(g);
    });
    ch.on("state", (st: ReadyState) => {
      if (!current() || st === CLOSED) return;
      setState(st);
      beat();
    });
    return ch;
  };

  /** Reopens for a bigger union of topics (a tab joined), resuming from the cursor: nothing lost. */
  const widen = () => {
    if (!lead) return;
    const union = unionTopics(known.values());
    const key = union.join(",");
    const have = lead.topics.split(",");
    if (have.includes("*") || union.every((t) => have.includes(t))) return;
    const old = lead.ch;
    lead.topics = key;
    lead.ch = open(lead, union);
    old.close();
  };

  const startLeading = (gen: number, release: () => void) => {
    term += 1;
    const union = unionTopics(known.values());
    const l: Lead = { gen, term, release, ch: undefined as unknown as Channel, topics: union.join(",") };
    lead = l;
    leaderTab = tab;
    setState(CONNECTING);
    l.ch = open(l, union);
    post({ k: "lead", term, tab });
    emitter.emit("leader", true);
    for (const [req, p] of pending) {
      if (p.leader !== null && p.leader !== tab) continue;
      pending.delete(req);
      clock.clearTimeout(p.timer);
      l.ch.send(p.data).then(p.resolve, p.reject);
    }
  };

  const stepDown = () => {
    if (!lead) return;
    const l = lead;
    lead = null;
    leaderTab = null;
    l.ch.close();
    l.release();
    setState(CONNECTING);
    emitter.emit("leader", false);
  };

  /** Queues for the lock (or steals it from a stalled leader). */
  const requestLock = (steal: boolean) => {
    if (closed || !locks) return;
    queued?.abort();
    queued = null;
    const gen = ++lockGen;
    const ac = new AbortController();
    if (!steal) queued = ac;
    locks
      .request(names.lock, steal ? { steal: true } : { signal: ac.signal }, () => {
        if (queued === ac) queued = null;
        if (closed || gen !== lockGen) return undefined;
        return new Promise<void>((release) => startLeading(gen, release));
      })
      .then(
        () => {},
        () => {
          // Our held lock was stolen (we were deemed stalled): step down and queue again.
          if (lead?.gen === gen) {
            stepDown();
            requestLock(false);
          }
        },
      );
  };

  // --- every tab ---------------------------------------------------------------------------

  /** A leader of `t` exists: note it; a leader of a lower term steps down. */
  const leaderSeen = (t: number, who: string): boolean => {
    if (t < term) return false; // a deposed leader that woke up
    lastHeard = clock.now();
    if (t === term && who === leaderTab) return true;
    if (lead && (t > lead.term || (t === lead.term && who !== tab))) {
      stepDown();
      requestLock(false);
    }
    const changed = who !== leaderTab;
    term = t;
    leaderTab = who;
    if (changed) {
      for (const [req, p] of pending) {
        if (p.leader === null) {
          p.leader = who;
          post({ k: "send", tab, req, data: p.data });
        } else if (p.leader !== who) {
          pending.delete(req);
          clock.clearTimeout(p.timer);
          p.reject(new ThroughlineError("TL_SEND_FAILED", DEV ? "the leader tab changed before confirming the send; it may or may not have been sent." : "leader"));
        }
      }
      post({ k: "hello", tab, topics });
    }
    return true;
  };

  const onMessage = (m: ShareMessage) => {
    if (closed) return;
    switch (m.k) {
      case "hello":
        known.set(m.tab, m.topics);
        widen();
        beat();
        return;
      case "bye":
        known.delete(m.tab);
        return;
      case "ping":
        beat();
        return;
      case "send":
        if (!lead) return;
        {
          const term = lead.term;
          lead.ch.send(m.data).then(
            () => post({ k: "sent", term, tab: m.tab, req: m.req }),
            (e: ThroughlineError) => post({ k: "sent", term, tab: m.tab, req: m.req, error: { code: e.code, message: e.message } }),
          );
        }
        return;
      case "lead":
        if (leaderSeen(m.term, m.tab)) setState(CONNECTING);
        return;
      case "beat":
        if (leaderSeen(m.term, m.tab) && !lead) setState(m.state);
        return;
      case "msg":
        if (leaderSeen(m.term, m.tab)) deliver(m.m);
        return;
      case "gap":
        if (leaderSeen(m.term, m.tab)) deliverGap(m.g);
        return;
      case "sent": {
        if (m.tab !== tab) return;
        const p = pending.get(m.req);
        if (!p) return;
        pending.delete(m.req);
        clock.clearTimeout(p.timer);
        if (m.error) p.reject(new ThroughlineError("TL_SEND_FAILED", DEV ? `the leader tab could not send (${m.error.code}).` : m.error.code));
        else p.resolve();
        return;
      }
    }
  };

  const tick = () => {
    if (closed) return;
    if (lead) beat();
    else {
      const silent = clock.now() - lastHeard;
      if (silent >= stallAfter) {
        lastHeard = clock.now();
        requestLock(true);
      } else if (silent >= s.beatMs) post({ k: "ping", tab });
    }
    timer = clock.setTimeout(tick, s.beatMs);
  };

  // Without the platform pieces, this tab simply leads alone.
  if (bc) {
    bc.onmessage = (e: MessageEvent<ShareMessage>) => onMessage(e.data);
    post({ k: "hello", tab, topics });
    requestLock(false);
    timer = clock.setTimeout(tick, s.beatMs);
  } else startLeading(0, () => {});

  const api: SharedChannel = {
    url: resolved.url,
    get readyState() {
      return state;
    },
    get isLeader() {
      return lead !== null;
    },
    get cursor() {
      return delivery.cursor;
    },
    on: (event: string, fn: (arg: never) => void) => emitter.on(event, fn as (arg: unknown) => void),
    off: (event: string, fn: (arg: never) => void) => emitter.off(event, fn as (arg: unknown) => void),
    send(data) {
      if (closed) return Promise.reject(new ThroughlineError("TL_CLOSED", DEV ? "the shared channel is closed." : ""));
      if (lead) return lead.ch.send(data);
      return new Promise<void>((resolve, reject) => {
        const req = ++reqSeq;
        const timer = clock.setTimeout(() => {
          pending.delete(req);
          reject(new ThroughlineError("TL_SEND_FAILED", DEV ? `no leader tab confirmed the send within ${connectTimeoutMs} ms.` : `${connectTimeoutMs} ms`));
        }, connectTimeoutMs);
        pending.set(req, { data, resolve, reject, timer, leader: leaderTab });
        if (leaderTab) post({ k: "send", tab, req, data });
      });
    },
    close() {
      if (closed) return;
      stepDown();
      closed = true;
      clock.clearTimeout(timer);
      queued?.abort();
      post({ k: "bye", tab });
      bc?.close();
      for (const p of pending.values()) {
        clock.clearTimeout(p.timer);
        p.reject(new ThroughlineError("TL_CLOSED", DEV ? "the shared channel is closed." : ""));
      }
      pending.clear();
      setState(CLOSED);
    },
  };
  return api;
}
