/**
 * Probes one transport exactly as the client's negotiator would (`openCandidate`: the same
 * transports, the same proof rules), through an instrumented fetch/WebSocket, then watches the
 * proven connection for a while: heartbeat lateness, bursts, cuts.
 */
import type { AttemptRecord, Clock, WebSocketConstructor } from "@throughline/client";
import { WS_PROBE_SEQ, openCandidate, type CloseInfo, type TransportContext, type Transport } from "@throughline/client/internal";
import type { HelloFrame, ServerFrame, TransportName } from "@throughline/wire";
import { observingFetch, observingWebSocket, type UpgradeLog } from "./observe.js";
import type { HttpExchange } from "./report.js";

/** Everything one probe needs. */
export interface ProbeEnv {
  readonly url: string;
  readonly topics: readonly string[];
  readonly headers: () => Promise<Record<string, string>>;
  readonly fetch: typeof fetch;
  /** Makes the WebSocket constructor for one probe (Node's reports the upgrade into the log). */
  readonly webSocket?: ((log: UpgradeLog) => WebSocketConstructor) | undefined;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly watchMs: number;
  /** WebSocket watch: a client probe every this many ms, so the connection is never idle. */
  readonly busyMs: number;
  /** Called once the proof settled (before the watch). */
  readonly settled?: ((record: AttemptRecord) => void) | undefined;
}

/** One server frame as it arrived. */
export interface Arrival {
  readonly atMs: number;
  /** Network delivery number (frames with the same number arrived together). */
  readonly delivery: number;
  readonly type: ServerFrame["type"];
  /** The server's clock when it sent the frame (hello, heartbeat, probe). */
  readonly serverTime?: number | undefined;
}

/** Raw results of one probe; `diagnose` turns them into a report. */
export interface ProbeRun {
  readonly transport: TransportName;
  readonly record: AttemptRecord;
  readonly exchanges: readonly HttpExchange[];
  readonly upgrade: UpgradeLog;
  readonly hello?: HelloFrame | undefined;
  /** Frames after proof, hello first; empty if never proven. */
  readonly arrivals: readonly Arrival[];
  /** ms (from the probe's start) of every send during the watch. */
  readonly sends: readonly number[];
  /** ms from the probe's start to proof, and to the end of the watch. */
  readonly watchFromMs?: number | undefined;
  readonly watchToMs?: number | undefined;
  /** How the connection ended during the watch, if it did. */
  readonly closed?: { readonly atMs: number; readonly info: CloseInfo } | undefined;
}

/** Frames that carry a server timestamp. */
const timeOf = (f: ServerFrame): number | undefined => ("time" in f && typeof f.time === "number" ? f.time : undefined);

export async function probeTransport(transport: Transport, env: ProbeEnv): Promise<ProbeRun> {
  const { name } = transport;
  const { clock } = env;
  const t0 = clock.now();
  const ms = () => clock.now() - t0;
  const exchanges: HttpExchange[] = [];
  const upgrade: UpgradeLog = {};
  let cursor: string | null = null;
  const ctx: TransportContext = {
    url: env.url,
    topics: env.topics,
    session: null,
    // Each probe stands alone: no session proposal (see the negotiator's one-session rounds).
    propose: false,
    get cursor() {
      return cursor;
    },
    headers: env.headers,
    fetch: observingFetch(env.fetch, env.url, clock.now, exchanges),
    WebSocket: env.webSocket ? observingWebSocket(env.webSocket(upgrade), clock.now, upgrade) : undefined,
    clock,
    connectTimeoutMs: env.timeoutMs,
  };
  let record: AttemptRecord | undefined;
  // Network deliveries after adoption, counted around the transport's own handlers (an adopted
  // candidate passes on frames and the close only).
  let delivery = 0;
  let watching = false;
  const counted: Transport = {
    ...transport,
    create: (c, h) =>
      transport.create(c, {
        ...h,
        chunk() {
          if (watching) delivery++;
          h.chunk();
        },
      }),
  };
  const candidate = openCandidate(counted, ctx, { timeoutMs: env.timeoutMs, _requireProof: true, purpose: "connect" }, (r) => (record = r));
  const result = await candidate.result;
  env.settled?.(record!);
  const base = { transport: name, exchanges, upgrade, sends: [] as number[] };
  if (!result.ok) return { ...base, record: record!, arrivals: [] };

  const arrivals: Arrival[] = [];
  const sends: number[] = [];
  let closed: ProbeRun["closed"];
  const watchFromMs = ms();
  let done!: () => void;
  const ended = new Promise<void>((resolve) => (done = resolve));
  const push = (f: ServerFrame) => {
    if (f.type === "message") cursor = f.id;
    arrivals.push({ atMs: ms(), delivery, type: f.type, serverTime: timeOf(f) });
  };
  watching = true;
  // Frames kept from before adoption are replayed first: they arrived earlier, so their times
  // are approximate (proof time); a close after the proof follows them.
  candidate._adopt({
    frame: push,
    close(info) {
      closed = { atMs: ms(), info };
      done();
    },
  });
  // WebSocket: keep traffic flowing both ways (and time round trips), so only a fixed-duration
  // limit can cut it; an SSE stream carries only the server's heartbeats.
  let seq = WS_PROBE_SEQ;
  let busy: unknown;
  const tick = () => {
    sends.push(ms());
    candidate.link.send([{ type: "probe", seq: ++seq }]).catch(() => {});
    busy = clock.setTimeout(tick, env.busyMs);
  };
  if (name === "websocket" && !closed) busy = clock.setTimeout(tick, env.busyMs);
  const timer = clock.setTimeout(done, env.watchMs);
  await ended;
  clock.clearTimeout(timer);
  if (busy !== undefined) clock.clearTimeout(busy);
  const watchToMs = ms();
  // A goodbye, so the server ends the doctor's session at once.
  if (!closed) candidate.link.close(1000);
  return { ...base, record: record!, hello: result.hello, arrivals, sends, watchFromMs, watchToMs, closed };
}
