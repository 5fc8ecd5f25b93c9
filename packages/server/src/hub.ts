/**
 * The hub: one global sequence for every topic, the resume history, and the subscriber index
 * (per topic, plus the `*` wildcard set). Publishing validates, serializes once, records the
 * message and fans it out synchronously, so a connection that is planned (replay) and
 * subscribed in one synchronous step can neither miss nor duplicate a message.
 */
import { ALL_TOPICS, ThroughlineError, assertEventName, assertTopic, formatId, parseId, type GapFrame } from "@throughline/wire";
import { Envelope, serializeData } from "./envelope.js";
import type { HistoryStore } from "./history-store.js";
import type { ResolvedOptions } from "./options.js";
import { ReplicaStore } from "./replica.js";

/** Anything that receives published messages of its topics. */
export interface Subscriber {
  readonly topics: readonly string[];
  deliver(envelope: Envelope): void;
}

/** Options of one publish. */
export interface PublishOptions {
  /** Event name the client dispatches the message under. @default "message" */
  event?: string;
}

/** What a new connection writes after its hello: gaps first, then the replay; then it goes live. */
export interface ResumePlan {
  /** The hello's cursor: the id the stream continues after. */
  readonly cursor: string;
  readonly gaps: GapFrame[];
  readonly replay: Envelope[];
}

/**
 * Past this many per-topic gaps a wildcard resume reports one `*` gap instead, so a hostile or
 * very stale cursor cannot make the server write thousands of gap frames.
 */
export const MAX_GAP_FRAMES = 32;

/** A validated, serialized message not yet numbered. */
export interface Outgoing {
  readonly topic: string;
  readonly event: string;
  readonly json: string | undefined;
}

export class Hub {
  /** Shared by every hub given the same store: it owns the sequence (see history-store.ts). */
  readonly history: HistoryStore;
  readonly #byTopic = new Map<string, Set<Subscriber>>();
  readonly #all = new Set<Subscriber>();

  constructor(private readonly options: ResolvedOptions) {
    this.history = options.historyStore;
  }

  /** Names this run of the history (the store's: with a backplane it changes with the shared history's). */
  get epoch(): string {
    return this.history.epoch;
  }

  /** Current sequence number (0 before the first publish). */
  get seq(): number {
    return this.history.seq;
  }

  /** The last `head`, reused while it holds: every new session keeps it as its start cursor. */
  #head = { epoch: "", seq: -1, id: "" };

  /** Id of the newest message (`<epoch>-0` before the first publish). */
  get head(): string {
    const epoch = this.epoch;
    const seq = this.history.seq;
    const h = this.#head;
    if (h.seq !== seq || h.epoch !== epoch) this.#head = { epoch, seq, id: formatId(epoch, seq) };
    return this.#head.id;
  }

  /**
   * Validates, records and fans out a message.
   * @throws ThroughlineError TL_BAD_TOPIC, TL_BAD_EVENT, TL_BAD_DATA, TL_MESSAGE_TOO_BIG
   */
  publish(topic: string, data: unknown, options: PublishOptions = {}): Envelope {
    const m = this.prepare(topic, data, options);
    // Read and add in one synchronous step: hubs sharing the store never reuse a seq.
    const envelope = new Envelope(this.epoch, this.history.seq + 1, m.topic, m.event, m.json, this.options.clock.now());
    this.record(envelope);
    return envelope;
  }

  /**
   * Validates and serializes a message (what `publish` does before numbering it).
   * @throws ThroughlineError TL_BAD_TOPIC, TL_BAD_EVENT, TL_BAD_DATA, TL_MESSAGE_TOO_BIG
   */
  prepare(topic: string, data: unknown, options: PublishOptions = {}): Outgoing {
    assertTopic(topic);
    const event = options?.event ?? "message";
    assertEventName(event);
    const json = serializeData(data);
    if (json !== undefined && json.length > this.options.maxOutboundBytes / 3) {
      // Cheap pre-check first: a string of n UTF-16 units is at most 3n UTF-8 bytes.
      const bytes = Buffer.byteLength(json);
      if (bytes > this.options.maxOutboundBytes) {
        throw new ThroughlineError("TL_MESSAGE_TOO_BIG", `a message of ${bytes} bytes exceeds maxOutboundBytes (${this.options.maxOutboundBytes}); publish a reference to the data instead.`);
      }
    }
    return { topic, event, json };
  }

  /** Records a numbered message (the next of the history) and fans it out to local subscribers. */
  record(envelope: Envelope): void {
    this.history.add(envelope);
    const subs = this.#byTopic.get(envelope.topic);
    if (subs) for (const s of subs) s.deliver(envelope);
    for (const s of this.#all) s.deliver(envelope);
  }

  subscribe(sub: Subscriber): void {
    for (const t of sub.topics) {
      if (t === ALL_TOPICS) {
        this.#all.add(sub);
        continue;
      }
      let set = this.#byTopic.get(t);
      if (!set) {
        set = new Set();
        this.#byTopic.set(t, set);
      }
      set.add(sub);
    }
  }

  unsubscribe(sub: Subscriber): void {
    for (const t of sub.topics) {
      if (t === ALL_TOPICS) {
        this.#all.delete(sub);
        continue;
      }
      const set = this.#byTopic.get(t);
      if (set?.delete(sub) && set.size === 0) this.#byTopic.delete(t);
    }
  }

  /**
   * Plans a connection's start from the client's cursor (PROTOCOL.md "Sessions and cursors"):
   * none → live from the head; same epoch, covered → replay of everything newer; evicted →
   * per-topic `evicted` gaps, then the replay; other epoch → one `*` `epoch` gap, live from the
   * head; garbage or future → one `*` `invalid-cursor` gap, live from the head. Never a full replay.
   * `resume`: the cursor is the client's (a resume), not its session's start (`stats` counts it).
   */
  plan(topics: readonly string[], rawCursor: string | null | undefined, _resume = true): ResumePlan {
    const head = this.head;
    if (rawCursor === undefined || rawCursor === null || rawCursor === "") return { cursor: head, gaps: [], replay: [] };
    const parsed = parseId(rawCursor);
    const gapAll = (reason: GapFrame["reason"]): ResumePlan => ({
      cursor: head,
      gaps: [{ type: "gap", topic: ALL_TOPICS, reason, cursor: head }],
      replay: [],
    });
    if (!parsed) return gapAll("invalid-cursor");
    if (parsed.epoch !== this.epoch) {
      // A replica knows where its epoch began: one `epoch` gap there, then all of the new epoch.
      if (!(this.history instanceof ReplicaStore)) return gapAll("epoch");
      const start = formatId(this.epoch, this.history.floor);
      const rest = this.plan(topics, start);
      return { cursor: start, gaps: [{ type: "gap", topic: ALL_TOPICS, reason: "epoch", cursor: start }, ...rest.gaps], replay: rest.replay };
    }
    if (parsed.seq > this.history.seq) return gapAll("invalid-cursor");
    const cursor = formatId(this.epoch, parsed.seq);
    const { entries, gaps } = this.history.since(topics, parsed.seq);
    const gapTopics = gaps.length > MAX_GAP_FRAMES || gaps.includes(ALL_TOPICS) ? [ALL_TOPICS] : gaps;
    return {
      cursor,
      gaps: gapTopics.map((topic) => ({ type: "gap", topic, reason: "evicted", cursor })),
      // The store gives back the hub's own envelopes (a shared store: another hub's, same shape).
      replay: entries as Envelope[],
    };
  }
}
