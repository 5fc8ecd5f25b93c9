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
  readonly published: number;
  readonly received: number;
  readonly lost: number;
  readonly duplicates: number;
  /** Messages that arrived after a later one. */
  readonly outOfOrder: number;
  /** Transport changes after the first open. */
  readonly switches: number;
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

/** Runs one scenario; closes everything it started, whatever happens. */
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
    // The cursor before the first published message: everything after it must arrive, even what
    // is published while the client is still negotiating.
    const start = server.rt.publish("warmup", 0);
    const published: string[] = [];
    const got: Message[] = [];
    let switches = -1;
    let firstAt: number | null = null;
    const t0 = Date.now();
    ch = connect(`${proxy.url}${new URL(server.url).pathname}`, {
      topics: ["s"],
      cursor: start,
      reconnect: { minDelayMs: 50, maxDelayMs: 1_000 },
      negotiation: options.negotiation ?? SCENARIO_NEGOTIATION,
    });
    ch.on("transport", () => void switches++);
    ch.on("*", (m: Message) => {
      firstAt ??= Date.now() - t0;
      got.push(m);
    });
    ch.on("error", () => {}); // failed attempts are expected here; they are in the diagnostics
    for (let i = 0; i < total; i++) {
      published.push(server.rt.publish("s", i));
      await sleep(intervalMs);
    }
    const deadline = Date.now() + timeoutMs;
    while (got.length < total && Date.now() < deadline) await sleep(20);
    // A moment more: duplicates would arrive now.
    await sleep(100);
    const ids = got.map((m) => m.id);
    const want = new Set(published);
    const seen = new Set<string>();
    let duplicates = 0;
    let outOfOrder = 0;
    let last = -1;
    for (const id of ids) {
      if (seen.has(id)) duplicates++;
      seen.add(id);
      const seq = parseId(id)?.seq ?? -1;
      if (seq < last) outOfOrder++;
      last = Math.max(last, seq);
    }
    const lost = [...want].filter((id) => !seen.has(id)).length;
    return {
      name: s.name,
      transport: ch.transport,
      firstMessageMs: firstAt,
      published: total,
      received: got.length,
      lost,
      duplicates,
      outOfOrder,
      switches: Math.max(0, switches),
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
    "| hostile network | transport chosen | time to first message | messages lost | duplicates | switches | attempts (transport: outcome) |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    // A cancelled attempt lost the race while still unproven (e.g. SSE held by a buffer).
    const attempts = r.attempts.map((a) => `${a.transport}: ${a.outcome === "cancelled" ? "unproven" : a.outcome}`).join(", ");
    lines.push(`| ${r.name} | ${r.transport ?? "—"} | ${r.firstMessageMs === null ? "—" : `${r.firstMessageMs} ms`} | ${r.lost} / ${r.published} | ${r.duplicates} | ${r.switches} | ${attempts} |`);
  }
  return lines.join("\n");
}
