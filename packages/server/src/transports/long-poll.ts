/**
 * Long-poll transport. A session's long-poll connection outlives single requests: it is
 * subscribed to the hub and queues frames between polls. Each `GET P/poll` answers a JSON array
 * of frames; the `cursor` of a poll acknowledges messages, and nothing is dropped before that
 * (a lost answer is simply sent again). Control frames are sent once.
 *
 * - No `session`: a new session and connection; answered at once with `[hello, …gaps, …replay]`.
 * - `session` with no long-poll connection (a switch from another transport, or after its
 *   connection closed): a new connection in that session, answered the same way.
 * - `session` with a long-poll connection: a continuation; answered at once if anything is
 *   pending, else held up to `longPollHoldMs` and answered `[heartbeat]`. A newer poll answers
 *   the held one `[]`.
 * - `session` of a session that ended with its close frame undelivered: answered `[…, close]`.
 */
import { CloseCode, QUERY, ROUTES, encodeFrame, encodePollBatch, httpError, isSessionId, parseId, parseTopics } from "@throughline/wire";
import type { Connection } from "../connection.js";
import type { Envelope } from "../envelope.js";
import type { Exchange } from "../exchange.js";
import { helloFrame } from "../hello.js";
import type { ResumePlan } from "../hub.js";
import { closingError, sendJson } from "../http.js";
import type { Registry } from "../registry.js";
import type { SessionImpl } from "../session.js";
import type { HttpTransport } from "../transport.js";

/** A queued frame; `seq` 0 marks a control frame (sent once), else a message (kept until acked). */
interface Item {
  readonly seq: number;
  readonly text: string;
}

export class LongPollConnection implements Connection {
  readonly transport = "long-poll" as const;
  closed = false;
  #queue: Item[] = [];
  /** Queued text length (UTF-16 units: a cheap, close-enough measure for the buffer limit). */
  #bytes = 0;
  #held: Exchange | undefined;
  #holdTimer: unknown;
  #idleTimer: unknown;
  #flushQueued = false;
  #finished = false;
  /** When the last answer with messages went out: such answers are spaced (see #batchWait). */
  #lastAnswerAt = -Infinity;

  constructor(
    private readonly owner: LongPollTransport,
    private readonly registry: Registry,
    readonly session: SessionImpl,
    readonly topics: readonly string[],
  ) {}

  /** Queues the opening frames. */
  start(plan: ResumePlan): void {
    this.#push(0, encodeFrame(helloFrame(this.registry.options, this.session.id, "long-poll", plan.cursor)));
    for (const gap of plan.gaps) this.#push(0, encodeFrame(gap));
    for (const e of plan.replay) this.#push(e.seq, e.json);
  }

  deliver(envelope: Envelope): void {
    if (this.closed) return;
    this.#push(envelope.seq, envelope.json);
    const { maxBufferedBytes, maxBufferedMessages } = this.registry.options;
    if (this.#bytes > maxBufferedBytes || this.#queue.length > maxBufferedMessages) {
      this.close(CloseCode.TOO_SLOW, "the client polled too slowly");
      return;
    }
    this.#scheduleFlush();
  }

  /** Held polls are answered by their own hold timer, not by the shared ticker. */
  heartbeat(): void {}

  close(code: number, reason: string): void {
    if (this.closed) {
      // Already closed (e.g. too slow) with its close frame pending, and now the session ends.
      if (!this.#finished && !this.#held && this.session.ended) this.owner.tombstone(this);
      return;
    }
    this.closed = true;
    this.registry.removeConnection(this);
    this.#clearIdle();
    if (code === CloseCode.TOO_SLOW) {
      // The client resumes from history; do not hold on to what it failed to fetch.
      this.#queue = [];
      this.#bytes = 0;
    }
    this.#push(0, encodeFrame({ type: "close", code, reason }));
    const res = this.#held;
    if (res) {
      this.#releaseHeld();
      this.#answer(res);
    } else if (this.session.ended) {
      this.owner.tombstone(this);
    }
  }

  /** Its session ended: an expired one's client is gone (or will get 404 and start over), so nothing to tell it. */
  end(code: number, reason: string, expired: boolean): void {
    if (expired) this.discard();
    else this.close(code, reason);
  }

  /** Drops the connection silently (idle, or its session expired). */
  discard(): void {
    this.closed = true;
    this.registry.removeConnection(this);
    const res = this.#held;
    if (res) {
      this.#releaseHeld();
      sendJson(res, "[]");
    }
    this.#finish();
  }

  /** Handles one poll. `continuation`: the poll continues this connection (its cursor acks). */
  poll(res: Exchange, cursor: string | null, continuation: boolean): void {
    this.#clearIdle();
    if (continuation) this.#ack(cursor);
    const previous = this.#held;
    if (previous) {
      this.#releaseHeld();
      sendJson(previous, "[]");
    }
    const batchWait = this.#batchWait();
    if (this.#finished || (this.#queue.length > 0 && (batchWait <= 0 || this.#hasControl()))) {
      this.#answer(res);
      return;
    }
    const { clock, longPollHoldMs } = this.registry.options;
    this.#held = res;
    this.session.retain();
    // Something queued, but the last answer went out moments ago: hold the poll to the end of
    // the batch window (see #batchWait); otherwise until a message comes or the hold time ends.
    this.#holdTimer = clock.setTimeout(() => {
      this.#holdTimer = undefined;
      if (this.#held !== res) return;
      this.#releaseHeld();
      this.#answer(res, encodeFrame({ type: "heartbeat", time: clock.now() }));
    }, this.#queue.length > 0 ? batchWait : longPollHoldMs);
    // A client that gives up on its poll: forget the request, keep the queue for the next one.
    const onGone = () => {
      if (this.#held !== res) return;
      this.#releaseHeld();
      this.#armIdle();
    };
    res.onGone(onGone);
  }

  get held(): boolean {
    return this.#held !== undefined;
  }

  #push(seq: number, text: string): void {
    this.#queue.push({ seq, text });
    this.#bytes += text.length;
  }

  #ack(cursor: string | null): void {
    const parsed = parseId(cursor);
    if (!parsed || parsed.epoch !== this.registry.hub.epoch) return;
    const kept = this.#queue.filter((i) => i.seq === 0 || i.seq > parsed.seq);
    if (kept.length === this.#queue.length) return;
    this.#queue = kept;
    this.#bytes = kept.reduce((n, i) => n + i.text.length, 0);
  }

  #scheduleFlush(): void {
    if (!this.#held || this.#flushQueued) return;
    this.#flushQueued = true;
    // Batch everything published in the same tick into one answer.
    queueMicrotask(() => {
      this.#flushQueued = false;
      const res = this.#held;
      if (!res || this.#queue.length === 0) return;
      const wait = this.#batchWait();
      if (wait > 0 && !this.#hasControl()) {
        // Too soon after the last answer: the held poll answers when the batch window ends.
        const { clock } = this.registry.options;
        if (this.#holdTimer !== undefined) clock.clearTimeout(this.#holdTimer);
        this.#holdTimer = clock.setTimeout(() => {
          this.#holdTimer = undefined;
          if (this.#held !== res) return;
          this.#releaseHeld();
          this.#answer(res);
        }, wait);
        return;
      }
      this.#releaseHeld();
      this.#answer(res);
    });
  }

  /**
   * ms until the next answer may go (≤ 0: now). Answers are spaced two poll-rate tokens apart
   * (100 ms with the default 20 polls/s), so a client that polls again at once after every
   * answer uses at most half its allowed rate whatever the publish rate: under load messages
   * batch instead of the client tripping its server's 429 (issue #10).
   */
  #batchWait(): number {
    const { clock, security } = this.registry.options;
    return this.#lastAnswerAt + 2000 / security.maxPollsPerSecond - clock.now();
  }

  /** Control frames (hello, gaps, close) never wait for a batch. */
  #hasControl(): boolean {
    return this.#queue.some((i) => i.seq === 0);
  }

  #releaseHeld(): void {
    if (!this.#held) return;
    this.#held = undefined;
    if (this.#holdTimer !== undefined) this.registry.options.clock.clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    this.session.release();
  }

  /** Answers with the queue (or `extra` when the queue is empty); control frames are sent once. */
  #answer(res: Exchange, extra?: string): void {
    const items = this.#queue;
    const texts = items.length > 0 ? items.map((i) => i.text) : extra === undefined ? [] : [extra];
    if (items.some((i) => i.seq === 0)) {
      this.#queue = items.filter((i) => i.seq !== 0);
      this.#bytes = this.#queue.reduce((n, i) => n + i.text.length, 0);
    }
    sendJson(res, encodePollBatch(texts));
    // Only answers carrying messages count: after a hello or a heartbeat the first message goes at once.
    if (items.some((i) => i.seq !== 0)) this.#lastAnswerAt = this.registry.options.clock.now();
    if (this.closed) this.#finish();
    else this.#armIdle();
  }

  /** Without a poll for `sessionTtlMs`, the connection goes (its session may live on elsewhere). */
  #armIdle(): void {
    this.#clearIdle();
    if (this.closed) return;
    const { clock, sessionTtlMs } = this.registry.options;
    this.#idleTimer = clock.setTimeout(() => {
      this.#idleTimer = undefined;
      if (!this.#held) this.discard();
    }, sessionTtlMs);
  }

  #clearIdle(): void {
    if (this.#idleTimer !== undefined) this.registry.options.clock.clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /** The connection is done: its close frame (if any) went out, or it was discarded. */
  #finish(): void {
    this.#finished = true;
    this.#clearIdle();
    this.owner.finished(this);
  }
}

/** The long-poll transport: it owns each session's connection between polls and the close frames of ended sessions. */
export class LongPollTransport implements HttpTransport {
  readonly name = "long-poll" as const;
  readonly route = ROUTES.poll;
  /** Each session's long-poll connection (it outlives single polls). */
  readonly #bySession = new Map<string, LongPollConnection>();
  /**
   * Long-poll connections of ended sessions whose `close` frame is not yet delivered: the
   * session's next poll gets it (instead of a 404) so the client learns the close code.
   */
  readonly #tombstones = new Map<string, { conn: LongPollConnection; timer: unknown }>();

  constructor(private readonly registry: Registry) {}

  kept(session: SessionImpl): LongPollConnection | undefined {
    return this.#bySession.get(session.id);
  }

  /**
   * The connection a poll continues: the session's long-poll connection, or the tombstone of one
   * that just ended (so its last answer can be repeated); `undefined` when the poll opens a new
   * connection (no session, `connect=1`, or a session without one).
   */
  continued(query: URLSearchParams): LongPollConnection | undefined {
    const param = query.get(QUERY.session);
    if (param === null) return undefined;
    const session = isSessionId(param) ? this.registry.sessions.get(param) : undefined;
    if (session) return query.get(QUERY.connect) === "1" ? undefined : this.#bySession.get(session.id);
    return this.#tombstones.get(param)?.conn;
  }

  opens(query: URLSearchParams): boolean {
    return this.continued(query) === undefined;
  }

  /** Routes one `GET P/poll` (see the file comment). Throws 400 / 404 / 503 before answering. */
  serve(ex: Exchange, query: URLSearchParams): void {
    const registry = this.registry;
    const param = query.get(QUERY.session);
    const cursor = query.get(QUERY.cursor);
    // `connect=1`: the first poll of a new client connection (see QUERY.connect), never a continuation.
    const fresh = query.get(QUERY.connect) === "1";
    const continued = this.continued(query);
    if (continued) {
      continued.poll(ex, cursor, true);
      return;
    }
    if (param !== null) {
      const session = isSessionId(param) ? registry.sessions.get(param) : undefined;
      // `connect=1`: the old connection's client is gone (it reconnected): drop it, keep the session.
      if (fresh && session) this.#bySession.get(session.id)?.discard();
      if (!session && !registry.closed && query.get(QUERY.propose) !== "1") throw httpError("TL_UNKNOWN_SESSION", "unknown or expired session: poll without `session` (keep your cursor) to start a new one.");
    }
    if (registry.closed) throw closingError();
    const topics = parseTopics(query.get(QUERY.topics));
    const session = registry.resolveSession(param, topics, query.get(QUERY.propose) === "1");
    const conn = new LongPollConnection(this, registry, session, topics);
    this.#bySession.set(session.id, conn);
    conn.start(registry.hub.plan(topics, cursor || session.startCursor, !!cursor));
    registry.addConnection(conn, false);
    conn.poll(ex, cursor, false);
  }

  /** Keeps an ended session's undelivered long-poll close frame for one TTL. */
  tombstone(conn: LongPollConnection): void {
    const id = conn.session.id;
    const prev = this.#tombstones.get(id);
    if (prev) this.registry.clearTimer(prev.timer);
    // After close() no timers run; the map is then bounded by the sessions at shutdown.
    const timer = this.registry.closed ? undefined : this.registry.setTimer(() => this.#tombstones.delete(id), this.registry.ttlMs);
    this.#tombstones.set(id, { conn, timer });
  }

  /** The connection is done: its close frame (if any) went out, or it was discarded. */
  finished(conn: LongPollConnection): void {
    const id = conn.session.id;
    if (this.#bySession.get(id) === conn) this.#bySession.delete(id);
    const t = this.#tombstones.get(id);
    if (t && t.conn === conn) {
      if (t.timer !== undefined) this.registry.clearTimer(t.timer);
      this.#tombstones.delete(id);
    }
  }
}
