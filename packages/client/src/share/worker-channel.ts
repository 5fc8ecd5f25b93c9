/**
 * The tab side of tab sharing through a `SharedWorker`: the worker holds the connection; this
 * tab joins with its topics over its own MessagePort, gets its messages, and answers the worker's
 * token requests with its `token` option (so a token function never leaves the tab).
 */
import { DEV, ThroughlineError, type GapFrame, type Message } from "@throughline/wire";
import { CLOSED, CONNECTING, type ReadyState } from "../api.js";
import { Emitter } from "../emitter.js";
import type { Clock, ConnectOptions } from "../options.js";
import type { SharedChannel } from "./shared-channel.js";
import { workerOptions, type TabToWorker, type WorkerToTab } from "./worker-protocol.js";

interface PendingSend {
  readonly resolve: () => void;
  readonly reject: (e: ThroughlineError) => void;
  readonly timer: unknown;
}

export interface WorkerChannelInit {
  readonly url: string;
  readonly key: string;
  /** Starts (or attaches to) the shared worker; called again when the worker died. */
  readonly worker: () => SharedWorker;
  /** Ping the worker this often; no answer for `stallMs`: it died, start a new one and rejoin. */
  readonly beatMs: number;
  readonly stallMs: number;
  readonly topics: readonly string[];
  readonly options: ConnectOptions;
  readonly clock: Clock;
  readonly connectTimeoutMs: number;
}

export function workerChannel(init: WorkerChannelInit): SharedChannel {
  const { clock, options } = init;
  let port: MessagePort;
  const emitter = new Emitter();
  const pending = new Map<number, PendingSend>();
  let state: ReadyState = CONNECTING;
  let cursor: string | null = options.cursor ?? null;
  let closed = false;
  let reqSeq = 0;
  let lastHeard = clock.now();
  let timer: unknown;
  const post = (m: TabToWorker) => port.postMessage(m);

  const onMessage = (e: MessageEvent<WorkerToTab>) => {
    if (closed) return;
    lastHeard = clock.now();
    const m = e.data;
    switch (m.k) {
      case "pong":
        return;
      case "state":
        if (m.state !== state) {
          state = m.state;
          emitter.emit("state", state);
        }
        return;
      case "msg":
        cursor = m.m.id;
        emitter.emit(m.m.event, m.m as Message);
        emitter.emit("*", m.m as Message);
        return;
      case "gap":
        emitter.emit("gap", m.g as GapFrame);
        return;
      case "sent": {
        const p = pending.get(m.req);
        if (!p) return;
        pending.delete(m.req);
        clock.clearTimeout(p.timer);
        if (m.error) p.reject(new ThroughlineError("TL_SEND_FAILED", DEV ? `the shared worker could not send (${m.error.code}).` : m.error.code));
        else p.resolve();
        return;
      }
      case "token?": {
        const { token } = options;
        Promise.resolve(typeof token === "function" ? token() : token).then(
          (value) => post(value === undefined ? { k: "token", req: m.req, error: "no token option" } : { k: "token", req: m.req, value }),
          (err: unknown) => post({ k: "token", req: m.req, error: String((err as Error)?.message ?? err).slice(0, 200) }),
        );
        return;
      }
    }
  };
  const join = () => {
    port = init.worker().port;
    port.onmessage = onMessage;
    port.start();
    lastHeard = clock.now();
    post({ k: "join", key: init.key, url: init.url, options: workerOptions(options), topics: init.topics, token: options.token !== undefined, cursor });
  };
  /** A worker dies with the renderer process that hosts it (a crashed tab): start a new one. */
  const tick = () => {
    if (closed) return;
    if (clock.now() - lastHeard >= init.stallMs) {
      if (state !== CONNECTING) {
        state = CONNECTING;
        emitter.emit("state", state);
      }
      join();
    } else post({ k: "ping" });
    timer = clock.setTimeout(tick, init.beatMs);
  };
  join();
  timer = clock.setTimeout(tick, init.beatMs);

  return {
    url: init.url,
    get readyState() {
      return state;
    },
    isLeader: false,
    get cursor() {
      return cursor;
    },
    on: (event: string, fn: (arg: never) => void) => emitter.on(event, fn as (arg: unknown) => void),
    off: (event: string, fn: (arg: never) => void) => emitter.off(event, fn as (arg: unknown) => void),
    send(data) {
      if (closed) return Promise.reject(new ThroughlineError("TL_CLOSED", DEV ? "the shared channel is closed." : ""));
      return new Promise<void>((resolve, reject) => {
        const req = ++reqSeq;
        const timer = clock.setTimeout(() => {
          pending.delete(req);
          reject(new ThroughlineError("TL_SEND_FAILED", DEV ? `the shared worker did not confirm the send within ${init.connectTimeoutMs} ms.` : `${init.connectTimeoutMs} ms`));
        }, init.connectTimeoutMs);
        pending.set(req, { resolve, reject, timer });
        post({ k: "send", req, data });
      });
    },
    close() {
      if (closed) return;
      closed = true;
      clock.clearTimeout(timer);
      post({ k: "leave" });
      for (const p of pending.values()) {
        clock.clearTimeout(p.timer);
        p.reject(new ThroughlineError("TL_CLOSED", DEV ? "the shared channel is closed." : ""));
      }
      pending.clear();
      state = CLOSED;
      emitter.emit("state", CLOSED);
    },
  };
}
