/**
 * Time to first message from connect(), on a direct connection and through each hostile network
 * (networks.mjs), for Throughline (negotiated and each forced transport) next to Socket.IO (its
 * default and each transport). The server publishes a small message every 2 ms for the whole
 * scenario, so "first message" is at most ~2 ms after the stream is really open.
 *
 * Per trial also (issue #10): of the messages published from the moment the trial's first request
 * reached the server until the channel was open and had delivered its first message, how many the
 * application received; and the largest gap between consecutive deliveries from the first message
 * to the end of the observation window (`windowMs` after both the first message and the open event).
 */
import { fileURLToPath } from "node:url";
import { Child } from "../lib/proc.mjs";
import { result, step } from "../lib/progress.mjs";

const here = (p) => fileURLToPath(new URL(`../${p}`, import.meta.url));

/** Client configurations per server, and the ones also tried through hostile networks. */
export const TTFM_CONFIGS = Object.freeze({
  throughline: ["throughline", "throughline-sse", "throughline-websocket", "throughline-long-poll"],
  socketio: ["socketio", "socketio-websocket", "socketio-polling"],
});
export const HOSTILE_CONFIGS = Object.freeze(["throughline", "socketio"]);

/** Publishing rate while clients connect (messages/s). */
export const TICK_RATE = 500;

/** How long each trial keeps listening after its first message and its open event (ms). */
export const WINDOW_MS = 500;

/**
 * The negotiation window of one trial: from its first request's arrival at the server (`requestT`)
 * to the later of its first delivery and its open event; `[from, to)` in CLOCK_MONOTONIC ms.
 * @returns {[number, number] | null} null when the server never saw the trial's first request
 */
export function negotiationWindow(trial, requestT) {
  if (requestT === undefined || trial.first === undefined) return null;
  return [requestT, Math.max(trial.first, trial.open ?? trial.first)];
}

/**
 * Delivered / published of one trial's negotiation: `range` is the first and last seq the server
 * published in the window (null: none); delivered counts distinct seqs of `range` received.
 */
export function negotiationCount(seqs, range) {
  if (!range) return { delivered: 0, published: 0 };
  const [a, b] = range;
  const got = new Set(seqs.filter((x) => x >= a && x <= b));
  return { delivered: got.size, published: b - a + 1 };
}

/**
 * The largest interval between consecutive deliveries from the first one to `end` (the end of
 * the observation window counts as the last point, so a stall after the first message shows).
 */
export function largestGap(arrivals, end) {
  if (arrivals.length === 0) return NaN;
  let gap = 0;
  for (let i = 1; i < arrivals.length; i++) gap = Math.max(gap, arrivals[i] - arrivals[i - 1]);
  return Math.max(gap, (end ?? arrivals[arrivals.length - 1]) - arrivals[arrivals.length - 1]);
}

/**
 * Sums the trials of one row: negotiation delivered / published over every trial whose first
 * request the server saw, and the median / max of the per-trial largest gaps.
 * @param {{ seqs: number[], arrivals: number[], end?: number }[]} details
 * @param {([number, number] | null | undefined)[]} ranges per trial (undefined: first request not seen)
 */
export function summariseTrials(details, ranges) {
  const negotiation = { delivered: 0, published: 0, trials: 0 };
  details.forEach((d, i) => {
    if (ranges[i] === undefined) return;
    const c = negotiationCount(d.seqs, ranges[i]);
    negotiation.delivered += c.delivered;
    negotiation.published += c.published;
    negotiation.trials++;
  });
  const gaps = details.map((d) => largestGap(d.arrivals, d.end)).filter(Number.isFinite);
  return { negotiation, gaps, gapMedian: median(gaps), gapMax: gaps.length ? Math.max(...gaps) : NaN };
}

const median = (xs) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};
const p90 = (xs) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.9 * s.length) - 1)];
};

/**
 * @param {{ servers: ("throughline"|"socketio")[], networks: object[], trials: number,
 *   hostileTrials: number, timeoutMs: number, pin?: import("../lib/pin.mjs").Pinning }} opts
 *   `pin`: server on the server core, clients on theirs (the runner, which hosts the hostile
 *   proxies, is on the clients' cores too)
 */
export async function runTtfm(opts) {
  const out = [];
  for (const serverName of opts.servers) {
    step(`time to first message: ${serverName} (${opts.networks.map((n) => n.name).join(", ")})`);
    /** Trial tag → when its first request reached the server (servers/common.mjs). */
    const firstRequests = new Map();
    const server = new Child(here(`servers/${serverName}.mjs`), [], {
      name: `${serverName} server`,
      pin: opts.pin,
      role: "server",
      onMessage: (m) => {
        if (m.type === "first-request") firstRequests.set(m.tag, m.t);
      },
    });
    let clientRun = 0;
    try {
      const l = await server.wait((m) => m.type === "listening" || m.type === "error", 20_000, "listening");
      if (l.type === "error") throw new Error(l.message);
      const origin = `http://127.0.0.1:${l.port}`;
      await server.request({ cmd: "run", mode: "rate", size: 64, rate: TICK_RATE, durationMs: 30 * 60_000, log: true }, "started");
      for (const network of opts.networks) {
        const direct = network.name === "direct";
        const configs = TTFM_CONFIGS[serverName].filter((c) => direct || HOSTILE_CONFIGS.includes(c));
        const trials = direct ? opts.trials : opts.hostileTrials;
        for (const config of configs) {
          let via;
          const row = { scenario: "ttfm", system: config, network: network.name, trials };
          try {
            // A fresh proxy per configuration: no connection state carried over.
            via = await network.via(origin);
            const tag = `c${++clientRun}`;
            const client = new Child(here("clients/ttfm.mjs"), [config, via.origin, String(trials), String(opts.timeoutMs), tag, String(WINDOW_MS)], { name: `ttfm ${config}`, pin: opts.pin, role: "clients" });
            const r = await client.wait((m) => m.type === "ttfm", trials * (2 * opts.timeoutMs + WINDOW_MS + 2_000) + 20_000, "ttfm result");
            await client.stop();
            const details = r.details ?? [];
            const windows = details.map((d) => negotiationWindow(d, firstRequests.get(d.tag)));
            const asked = windows.filter(Boolean);
            const answer = asked.length ? (await server.request({ cmd: "published", windows: asked }, "published")).ranges : [];
            let k = 0;
            const ranges = windows.map((w) => (w ? answer[k++] : undefined));
            const sum = summariseTrials(details, ranges);
            Object.assign(row, {
              median: median(r.samples),
              p90: p90(r.samples),
              openMedian: median(r.openSamples),
              ok: r.samples.length,
              failures: r.failures,
              transports: r.transports,
              error: r.error,
              negotiation: sum.negotiation,
              gapMedian: sum.gapMedian,
              gapMax: sum.gapMax,
              gaps: sum.gaps,
            });
          } catch (err) {
            Object.assign(row, { ok: 0, failures: trials, error: err instanceof Error ? err.message : String(err) });
          } finally {
            await via?.close().catch(() => {});
          }
          out.push(row);
          const tr = row.transports && Object.keys(row.transports).length ? ` via ${Object.keys(row.transports).join("/")}` : "";
          const neg = row.negotiation?.trials ? `, negotiation ${row.negotiation.delivered}/${row.negotiation.published}, gap ${row.gapMedian.toFixed(0)} ms` : "";
          result(`${config} on ${network.name}: ${row.ok ? `median ${row.median.toFixed(1)} ms, p90 ${row.p90.toFixed(1)} ms${tr}${neg}` : "no message"}${row.failures ? ` (${row.failures}/${trials} failed${row.error ? `: ${row.error}` : ""})` : ""}`);
        }
      }
    } catch (err) {
      result(`${serverName}: ttfm FAILED: ${err instanceof Error ? err.message : err}`);
      out.push({ scenario: "error", system: serverName, stage: "ttfm", message: String(err instanceof Error ? err.message : err) });
    } finally {
      server.send({ cmd: "stop" });
      await server.stop();
    }
  }
  return out;
}
