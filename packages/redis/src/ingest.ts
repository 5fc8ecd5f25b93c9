/**
 * A node's ingest: reads every message of the shared history in order, on a dedicated connection
 * whose `XREAD BLOCK` has no client-side deadline (a command timeout would cut every idle read),
 * and hands each one to the listeners once. It re-checks the epoch whenever a read comes back
 * empty or fails, and whenever it meets an entry of another epoch, so a new epoch (Redis lost or
 * rewound its data) is reported as one gap at the exact point, never as silence.
 *
 * Memory is bounded by one batch (`readBatch` entries): the next read starts only after the
 * listeners have taken the previous one, and Redis keeps the rest.
 */
import type { Redis } from "ioredis";
import type { BackplaneGap, BackplaneListener, BackplaneMessage, BackplanePosition } from "./contract.js";
import { toMessage, type StreamEntry } from "./codec.js";

export interface IngestDeps {
  readonly reader: Redis;
  readonly logKey: string;
  readonly blockMs: number;
  readonly readBatch: number;
  readonly maxReconnectDelayMs: number;
  /** Runs the head script with what this node knows (so a rewind is detected). */
  readonly head: (known: BackplanePosition | undefined, via: Redis) => Promise<BackplanePosition>;
}

export class Ingest {
  readonly #deps: IngestDeps;
  readonly #listeners = new Set<BackplaneListener>();
  #position: BackplanePosition;
  #stopped = false;
  #available = true;
  #loop: Promise<void> | undefined;

  constructor(deps: IngestDeps, start: BackplanePosition) {
    this.#deps = deps;
    this.#position = start;
  }

  /** Newest position ingested (the high-water mark this node has seen). */
  get position(): BackplanePosition {
    return this.#position;
  }

  add(listener: BackplaneListener): () => void {
    this.#listeners.add(listener);
    this.#loop ??= this.#run();
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Stops reading; the caller disconnects the reader, which ends a blocked read. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }

  #emit<K extends "message" | "gap">(kind: K, value: K extends "message" ? BackplaneMessage : BackplaneGap): void {
    for (const l of this.#listeners) {
      try {
        (l[kind] as (v: typeof value) => void)(value);
      } catch (err) {
        // A throwing listener must not stop every other node-local subscriber, nor the ingest.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  #availability(available: boolean): void {
    if (this.#available === available) return;
    this.#available = available;
    for (const l of this.#listeners) l.availability?.(available);
  }

  /** Compares the store's head with what was ingested; reports a new epoch as a gap (→ `true`). */
  async #check(): Promise<boolean> {
    const head = await this.#deps.head(this.#position, this.#deps.reader);
    if (head.epoch === this.#position.epoch) return false;
    const cursor = this.#position;
    this.#position = { epoch: head.epoch, seq: 0 };
    this.#emit("gap", { reason: "epoch", cursor, continueAfter: this.#position });
    return true;
  }

  /** Moves past an entry this package did not write, so the next read does not return it again. */
  #stepOver(id: string): void {
    const seq = Number.parseInt(id, 10);
    if (Number.isSafeInteger(seq) && seq > this.#position.seq) this.#position = { epoch: this.#position.epoch, seq };
  }

  async #run(): Promise<void> {
    const { reader, logKey, blockMs, readBatch } = this.#deps;
    let failures = 0;
    let check = false;
    while (!this.#stopped) {
      try {
        if (check) {
          await this.#check();
          this.#availability(true);
        }
        check = false;
        const reply = (await reader.xread("COUNT", readBatch, "BLOCK", blockMs, "STREAMS", logKey, `${this.#position.seq}-0`)) as [string, StreamEntry[]][] | null;
        failures = 0;
        this.#availability(true);
        if (this.#stopped) return;
        const entries = reply?.[0]?.[1];
        if (!entries || entries.length === 0) {
          check = true;
          continue;
        }
        for (const entry of entries) {
          const message = toMessage(entry);
          if (!message) {
            this.#stepOver(entry[0]);
            continue;
          }
          if (message.epoch !== this.#position.epoch) {
            // The log was replaced by a new epoch's while this read waited: the check reports
            // the gap and the next read starts at the new epoch's beginning. If the epoch did
            // not change, the entry is not ours (another writer under this prefix): step over it.
            if (await this.#check()) break;
            this.#stepOver(entry[0]);
            continue;
          }
          if (message.seq <= this.#position.seq) continue;
          if (message.seq > this.#position.seq + 1) {
            const cursor = this.#position;
            const continueAfter = { epoch: cursor.epoch, seq: message.seq - 1 };
            this.#position = continueAfter;
            this.#emit("gap", { reason: "evicted", cursor, continueAfter });
          }
          // Keep only the position: the ingest must not retain the message's data.
          this.#position = { epoch: message.epoch, seq: message.seq };
          this.#emit("message", message);
        }
      } catch {
        if (this.#stopped) return;
        this.#availability(false);
        check = true;
        // Backoff while Redis is away; the client reconnects on its own meanwhile.
        const delay = Math.min(this.#deps.maxReconnectDelayMs, 50 * 2 ** Math.min(failures++, 10));
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}
