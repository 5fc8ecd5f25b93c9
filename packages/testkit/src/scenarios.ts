/**
 * Hostile-network scenarios for the negotiator: a Throughline server behind one hostile network
 * (a testkit proxy or a real nginx), a Node client with the default transport order, and a
 * sequence of messages published continuously from before the client connects until after it
 * settled. Used by the scenario tests and by `npm run scenarios` (the table in the README).
 */
import { connect, type AttemptRecord, type Channel, type NegotiationOptions } from "@throughline/client/node";
import { parseId, type Message, type TransportName } from "@throughline/wire";
import { startTestServer } from "./harness.js";
import { describeBehaviour } from "./hostile/describe.js";
import { findNginx, startNginx, type NginxConfig } from "./hostile/nginx.js";
import { startHostileProxy } from "./hostile/proxy.js";
import { startToggleProxy } from "./hostile/toggle.js";
import type { Behaviour } from "./hostile/types.js";

/** One hostile network: proxy behaviours, or a real nginx config. */
export interface Scenario {
  readonly name: string;
  readonly behaviours?: readonly Behaviour[];
  readonly nginx?: NginxConfig;
  /** Transports that deliver through this network (any of them is a correct end). */
  readonly expect: readonly TransportName[];
}

/** Every hostile network of the issue, with realistic parameters, plus nginx. */
export const SCENARIOS: readonly Scenario[] = Object.freeze([
  { name: "pass", behaviours: [{ kind: "pass" }], expect: ["sse"] },
  { name: "buffer whole response", behaviours: [{ kind: "buffer-all" }], expect: ["websocket"] },
  { name: "buffer 4 KB", behaviours: [{ kind: "buffer-bytes", bytes: 4096 }], expect: ["websocket"] },
  { name: "buffer 8 KB", behaviours: [{ kind: "buffer-bytes", bytes: 8192 }], expect: ["websocket"] },
  { name: "buffer 32 KB", behaviours: [{ kind: "buffer-bytes", bytes: 32768 }], expect: ["websocket"] },
  // With a replay, the hello is followed by a message in the same write: nothing is held after
  // it, so SSE is right here; without one, SSE is refused (client negotiator tests).
  { name: "hold first event", behaviours: [{ kind: "hold-first-event" }], expect: ["sse", "websocket"] },
  { name: "gzip, 8 KB blocks", behaviours: [{ kind: "compress", blockBytes: 8192 }], expect: ["websocket"] },
  { name: "refuse WebSocket", behaviours: [{ kind: "refuse-upgrade" }], expect: ["sse"] },
  { name: "strip Upgrade", behaviours: [{ kind: "strip-upgrade" }], expect: ["sse"] },
  { name: "close after 101", behaviours: [{ kind: "upgrade-then-close" }], expect: ["sse"] },
  { name: "block event-stream", behaviours: [{ kind: "block-event-stream" }], expect: ["websocket"] },
  { name: "cut idle 2 s", behaviours: [{ kind: "cut-idle", ms: 2000 }], expect: ["sse"] },
  { name: "cut after 2 s", behaviours: [{ kind: "cut-after", ms: 2000 }], expect: ["sse", "websocket", "long-poll"] },
  { name: "latency 100 ms ± 50", behaviours: [{ kind: "latency", ms: 100, jitterMs: 50 }], expect: ["sse"] },
  {
    name: "latency 50 ms ± 100 + cut idle 1.5 s",
    behaviours: [{ kind: "latency", ms: 50, jitterMs: 100 }, { kind: "cut-idle", ms: 1500 }],
    // Jitter as large as the probe interval can squeeze hello and probe together: either delivers.
    expect: ["sse", "websocket"],
  },
  { name: "buffer whole response + refuse WebSocket", behaviours: [{ kind: "buffer-all" }, { kind: "refuse-upgrade" }], expect: ["long-poll"] },
  { name: "block event-stream + close after 101", behaviours: [{ kind: "block-event-stream" }, { kind: "upgrade-then-close" }], expect: ["long-poll"] },
  { name: "nginx plain", nginx: "plain", expect: ["sse"] },
  { name: "nginx buffering", nginx: "buffering", expect: ["long-poll"] },
  { name: "nginx tuned", nginx: "tuned", expect: ["sse"] },
]);

/** Options of `runScenario`. */
export interface ScenarioOptions {
  /** Messages published, one every `intervalMs`, starting before the client connects. @default 30 */
  readonly messages?: number;
  /**
   * @default 60 (≈16 messages/s: a long-poll client polls once per answer, and the server limits
   * long-poll requests to 20/s per session)
   */
  readonly intervalMs?: number;
  /** Give up waiting for every message after this long. @default 20_000 */
  readonly timeoutMs?: number;
  /** Negotiator options for the client. @default SCENARIO_NEGOTIATION */
  readonly negotiation?: NegotiationOptions;
}

/** Negotiator timings for scenarios: the library defaults, except no memory (each run starts fresh). */
export const SCENARIO_NEGOTIATION: NegotiationOptions = Object.freeze({ rememberMs: false as const, proofTimeoutMs: 2_000 });

export interface ScenarioResult {
  readonly name: string;
  /** The transport the channel ended on. */
  readonly transport: TransportName | null;
  /** ms from connect() to the first message. */
  readonly firstMessageMs: number | null;
  /** Messages published after the client's first request reached the server (all must arrive). */
  readonly published: number;
  readonly received: number;
  readonly lost: number;
  readonly duplicates: number;
  /** Messages that arrived after a later one. */
  readonly outOfOrder: number;
  /** Transport changes after the first open. */
  readonly switches: number;
  /** Published between the first request reaching the server and the channel's `open`, and how many of those arrived. */
  readonly negotiation: { readonly published: number; readonly delivered: number };
  /** Largest time between two consecutive deliveries (ms). */
  readonly maxGapMs: number;
  readonly attempts: readonly AttemptRecord[];
}

/** True when nginx is installed (nginx scenarios are skipped by callers otherwise). */
export function hasNginx(): boolean {
  try {
    findNginx();
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Counts of a delivered id sequence against what was published. */
export function tally(published: readonly string[], got: readonly Message[]): { lost: number; duplicates: number; outOfOrder: number } {
  const seen = new Set<string>();
  let duplicates = 0;
  let outOfOrder = 0;
  let last = -1;
  for (const m of got) {
    if (seen.has(m.id)) duplicates++;
    seen.add(m.id);
    const seq = parseId(m.id)?.seq ?? -1;
    if (seq < last) outOfOrder++;
    last = Math.max(last, seq);
  }
  return { lost: published.filter((id) => !seen.has(id)).length, duplicates, outOfOrder };
}

/** Largest time between consecutive arrivals. */
export function maxGap(arrivals: readonly number[]): number {
  let gap = 0;
  for (let i = 1; i < arrivals.length; i++) gap = Math.max(gap, arrivals[i]! - arrivals[i - 1]!);
  return gap;
}

/**
 * Runs one scenario; closes everything it started, whatever happens. The client starts as a new
 * user does (no cursor): every message published after its first request reached the server
 * (the server's first `session` event) must arrive, including those published while the client
 * was still negotiating (issue #10).
 */
export async function runScenario(s: Scenario, options: ScenarioOptions = {}): Promise<ScenarioResult> {
  const total = options.messages ?? 30;
  const intervalMs = options.intervalMs ?? 60;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const server = await startTestServer();
  let proxy: { url: string; close(): Promise<void> } | undefined;
  let ch: Channel | undefined;
  try {
    const origin = `http://127.0.0.1:${server.port}`;
    proxy = s.nginx ? await startNginx({ target: origin, config: s.nginx }) : await startHostileProxy(origin, s.behaviours ?? []);
    const all: string[] = [];
    /** Index in `all` of the first message published after the first request reached the server. */
    let firstRequest: number | undefined;
    /** Index in `all` of the first message published after the channel opened. */
    let opened: number | undefined;
    const offSession = server.rt.on("session", () => void (firstRequest ??= all.length));
    const got: Message[] = [];
    const arrivals: number[] = [];
    let switches = -1;
    let firstAt: number | null = null;
    const t0 = Date.now();
    ch = connect(`${proxy.url}${new URL(server.url).pathname}`, {
      topics: ["s"],
      reconnect: { minDelayMs: 50, maxDelayMs: 1_000 },
      negotiation: options.negotiation ?? SCENARIO_NEGOTIATION,
    });
    ch.on("transport", () => void switches++);
    ch.on("open", () => void (opened ??= all.length));
    ch.on("*", (m: Message) => {
      firstAt ??= Date.now() - t0;
      arrivals.push(Date.now());
      got.push(m);
    });
    ch.on("error", () => {}); // failed attempts are expected here; they are in the diagnostics
    // Publishing goes on through the whole negotiation: whatever happens, messages are in flight.
    for (let i = 0; i < total; i++) {
      all.push(server.rt.publish("s", i));
      await sleep(intervalMs);
    }
    offSession();
    const expected = all.slice(firstRequest ?? all.length);
    const deadline = Date.now() + timeoutMs;
    const has = () => new Set(got.map((m) => m.id));
    while (expected.some((id) => !has().has(id)) && Date.now() < deadline) await sleep(20);
    // A moment more: duplicates would arrive now.
    await sleep(100);
    const during = all.slice(firstRequest ?? all.length, opened ?? all.length);
    const ids = has();
    return {
      name: s.name,
      transport: ch.transport,
      firstMessageMs: firstAt,
      published: expected.length,
      received: got.filter((m) => expected.includes(m.id)).length,
      ...tally(expected, got.filter((m) => expected.includes(m.id) || !all.includes(m.id))),
      switches: Math.max(0, switches),
      negotiation: { published: during.length, delivered: during.filter((id) => ids.has(id)).length },
      maxGapMs: maxGap(arrivals),
      attempts: ch.diagnostics,
    };
  } finally {
    ch?.close();
    await proxy?.close();
    await server.close();
  }
}

/** Label of a scenario's network. */
export function scenarioLabel(s: Scenario): string {
  return s.nginx ? `nginx ${s.nginx}` : describeBehaviour(s.behaviours ?? []);
}

/** The scenario table as Markdown. */
export function formatScenarioTable(rows: readonly ScenarioResult[]): string {
  const lines = [
    "| hostile network | transport chosen | time to first message | published during negotiation: delivered / published | messages lost | duplicates | largest gap | switches | attempts (transport: outcome) |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    // A cancelled attempt lost the race while still unproven (e.g. SSE held by a buffer).
    const attempts = r.attempts.map((a) => `${a.transport}${a.purpose === "scout" ? " (scout)" : ""}: ${a.outcome === "cancelled" ? "unproven" : a.outcome}`).join(", ");
    lines.push(`| ${r.name} | ${r.transport ?? "—"} | ${r.firstMessageMs === null ? "—" : `${r.firstMessageMs} ms`} | ${r.negotiation.delivered} / ${r.negotiation.published} | ${r.lost} / ${r.published} | ${r.duplicates} | ${r.maxGapMs} ms | ${r.switches} | ${attempts} |`);
  }
  return lines.join("\n");
}

/** Options of `runCutScenario`. */
export interface CutScenarioOptions {
  /** The proxy cuts every response (and WebSocket) after this long. @default 5_000 */
  readonly cutMs?: number;
  /** One message every this many ms. @default 100 */
  readonly intervalMs?: number;
  /** How long to publish. @default 3.5 × cutMs (three cuts, two of them learnt) */
  readonly durationMs?: number;
}

export interface CutScenarioResult {
  readonly name: string;
  readonly transport: TransportName | null;
  readonly published: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  /** Largest time between two consecutive deliveries (ms): the publishing interval when nothing stalls. */
  readonly maxGapMs: number;
  /** Links replaced make-before-break before the proxy could cut them. */
  readonly rotations: number;
  readonly attempts: readonly AttemptRecord[];
}

/**
 * A proxy that cuts every response after a fixed time (issue #10, "no gap at cuts"): messages
 * every `intervalMs` over several cut periods; reports loss, duplicates and the largest gap.
 */
export async function runCutScenario(options: CutScenarioOptions = {}): Promise<CutScenarioResult> {
  const cutMs = options.cutMs ?? 5_000;
  const intervalMs = options.intervalMs ?? 100;
  const durationMs = options.durationMs ?? Math.round(cutMs * 3.5);
  const server = await startTestServer();
  const proxy = await startHostileProxy(`http://127.0.0.1:${server.port}`, [{ kind: "cut-after", ms: cutMs }]);
  const ch = connect(`${proxy.url}${new URL(server.url).pathname}`, { topics: ["s"], negotiation: SCENARIO_NEGOTIATION });
  try {
    ch.on("error", () => {});
    const got: Message[] = [];
    const arrivals: number[] = [];
    ch.on("*", (m: Message) => {
      arrivals.push(Date.now());
      got.push(m);
    });
    await waitOpen(ch);
    const published: string[] = [];
    const end = Date.now() + durationMs;
    while (Date.now() < end) {
      published.push(server.rt.publish("s", published.length));
      await sleep(intervalMs);
    }
    const deadline = Date.now() + 10_000;
    while (got.length < published.length && Date.now() < deadline) await sleep(20);
    await sleep(100);
    const attempts = ch.diagnostics;
    return {
      name: `cut every response after ${cutMs / 1000} s, a message every ${intervalMs} ms`,
      transport: ch.transport,
      published: published.length,
      ...tally(published, got),
      maxGapMs: maxGap(arrivals),
      rotations: attempts.filter((a) => a.purpose === "rotate" && a.outcome === "proven").length,
      attempts,
    };
  } finally {
    ch.close();
    await proxy.close();
    await server.close();
  }
}

async function waitOpen(ch: Channel, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (ch.readyState !== 1) {
    if (Date.now() > deadline) throw new Error(`the channel did not open within ${ms} ms`);
    await sleep(10);
  }
}

/** Climb-back timings of `runClimbScenario` (the negotiation options it runs with). */
export const CLIMB_NEGOTIATION: NegotiationOptions = Object.freeze({ rememberMs: false as const, lateMs: 600, climbMinDelayMs: 1_000, climbMaxDelayMs: 4_000, proofTimeoutMs: 2_000 });

export interface ClimbScenarioResult {
  readonly name: string;
  /** Transports in the order the channel used them. */
  readonly transports: readonly TransportName[];
  /** ms from the end of the disturbance until the channel was back on SSE (`null`: not within the wait). */
  readonly climbMs: number | null;
  /** The stated bound: `climbMaxDelayMs + proofTimeoutMs` of CLIMB_NEGOTIATION. */
  readonly boundMs: number;
  readonly published: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
}

/**
 * A transient disturbance (issue #10, climb back): SSE chunks are held 1.5 s by the network for
 * `chaosMs`, so the watch switches the channel down; then the network heals, and the time until
 * the channel is back on SSE is measured against the stated bound.
 */
export async function runClimbScenario(chaosMs = 3_000): Promise<ClimbScenarioResult> {
  const server = await startTestServer({ heartbeatMs: 300 });
  const proxy = await startToggleProxy(server.port);
  const ch = connect(`${proxy.url}${new URL(server.url).pathname}`, { topics: ["s"], reconnect: { minDelayMs: 50, maxDelayMs: 500 }, negotiation: CLIMB_NEGOTIATION });
  const boundMs = (CLIMB_NEGOTIATION.climbMaxDelayMs as number) + (CLIMB_NEGOTIATION.proofTimeoutMs as number);
  let stop = false;
  try {
    ch.on("error", () => {});
    const got: Message[] = [];
    const transports: TransportName[] = [];
    ch.on("*", (m: Message) => void got.push(m));
    ch.on("transport", (t: { transport: TransportName }) => void transports.push(t.transport));
    await waitOpen(ch);
    const published: string[] = [];
    const publishing = (async () => {
      while (!stop) {
        published.push(server.rt.publish("s", published.length));
        await sleep(50);
      }
    })();
    await sleep(500);
    proxy.delayMs = 1_500;
    proxy.mode = "delay";
    await sleep(chaosMs);
    proxy.mode = "pass";
    const healed = Date.now();
    let climbMs: number | null = null;
    const deadline = healed + boundMs + 5_000;
    // Back on SSE after having left it.
    while (Date.now() < deadline) {
      if (ch.transport === "sse" && transports.length > 1) {
        climbMs = Date.now() - healed;
        break;
      }
      await sleep(20);
    }
    stop = true;
    await publishing;
    const until = Date.now() + 5_000;
    while (got.length < published.length && Date.now() < until) await sleep(20);
    await sleep(1_600); // held chunks of the old link come too late to matter
    return { name: `SSE held 1.5 s for ${chaosMs / 1000} s, then healed`, transports, climbMs, boundMs, published: published.length, ...tally(published, got) };
  } finally {
    stop = true;
    ch.close();
    await proxy.close();
    await server.close();
  }
}

export interface LoadScenarioResult {
  readonly name: string;
  readonly published: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  /** 429 answers the client got (its attempts and errors with TL_RATE_LIMITED). */
  readonly rateLimited: number;
}

/** A long-poll-only client at `perSecond` messages/s for `seconds` with the server's default limits (issue #10). */
export async function runLongPollLoad(perSecond: number, seconds = 3): Promise<LoadScenarioResult> {
  const server = await startTestServer();
  const ch = connect(server.url, { topics: ["s"], transports: ["long-poll"] });
  try {
    let rateLimited = 0;
    ch.on("error", (e: { code?: string }) => void (e.code === "TL_RATE_LIMITED" && rateLimited++));
    const got: Message[] = [];
    ch.on("*", (m: Message) => void got.push(m));
    await waitOpen(ch);
    const published: string[] = [];
    const start = Date.now();
    while (Date.now() - start < seconds * 1000) {
      // Catch up with the wall clock every tick: a slow tick publishes more, so the rate holds on a busy box.
      const due = Math.round(((Date.now() - start) * perSecond) / 1000);
      for (let i = published.length; i < due; i++) published.push(server.rt.publish("s", i));
      await sleep(10);
    }
    const deadline = Date.now() + 15_000;
    while (got.length < published.length && Date.now() < deadline) await sleep(20);
    await sleep(100);
    rateLimited += ch.diagnostics.filter((a) => a.error?.code === "TL_RATE_LIMITED").length;
    return { name: `long-poll at ${perSecond} msg/s for ${seconds} s`, published: published.length, ...tally(published, got), rateLimited };
  } finally {
    ch.close();
    await server.close();
  }
}
