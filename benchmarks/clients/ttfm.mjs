/**
 * Time to first message, measured the way an application sees it: from calling the library's
 * connect (Throughline `connect()`, Socket.IO `io()`) to the first published message arriving,
 * and to the "open" event. Sequential trials, each bounded; one JSON line with the samples.
 *
 * Each trial then keeps listening for `windowMs` after both the first message and the open event,
 * and reports every sequence number received with its arrival time, so the runner can count what
 * arrived of the messages published during the negotiation (scenarios/ttfm.mjs) and the largest
 * gap between deliveries. Every request of a trial carries `?bt=<tag>.<trial>` so the server can
 * report when the trial's first request reached it (servers/common.mjs).
 *
 * Usage: node clients/ttfm.mjs <config> <origin> <trials> <timeoutMs> [tag] [windowMs]
 * config: throughline (negotiated), throughline-sse, throughline-websocket, throughline-long-poll,
 *         socketio (its default: polling, then upgrade), socketio-websocket, socketio-polling.
 */
import { emit } from "../lib/proc.mjs";
import { nowMs } from "../lib/payload.mjs";

const [config, origin, trialsArg, timeoutArg, tagArg, windowArg] = process.argv.slice(2);
const trials = Number(trialsArg);
const timeoutMs = Number(timeoutArg);
const tag = tagArg || `t${process.pid}`;
const windowMs = Number(windowArg ?? 500);
const [lib, transport] = config.includes("-") ? [config.slice(0, config.indexOf("-")), config.slice(config.indexOf("-") + 1)] : [config, undefined];

/** The payload's sequence number from a Throughline message (`data`) or a Socket.IO one. */
const seqOf = (m) => (lib === "throughline" ? m?.data?.s : m?.s);

async function opener() {
  if (lib === "throughline") {
    const { connect } = await import("@throughline/client/node");
    return (trialTag, onOpen, onData) => {
      // No transport memory: every trial is a first visit (a remembered choice would make the
      // hostile rows measure the second visit, which skips the negotiation). The base URL's
      // query is kept on every request the client makes.
      const ch = connect(`${origin}/realtime?bt=${encodeURIComponent(trialTag)}`, { topics: ["bench"], negotiation: { rememberMs: false }, ...(transport ? { transports: [transport] } : {}) });
      ch.on("open", onOpen);
      ch.on("*", (m) => onData(m));
      // The first message may arrive while the first attempt is still being proven (no
      // transport yet): the label is the transport the channel opens on.
      return { close: () => ch.close(), transport: () => ch.transport };
    };
  }
  const { io } = await import("socket.io-client");
  return (trialTag, onOpen, onData) => {
    // `query` goes on every Engine.IO request (polling and the upgrade).
    const socket = io(origin, { forceNew: true, reconnection: false, query: { bt: trialTag }, ...(transport ? { transports: [transport] } : {}) });
    socket.on("connect", onOpen);
    socket.on("m", onData);
    return { close: () => socket.close(), transport: () => socket.io.engine?.transport?.name };
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const open = await opener();
const samples = [];
const openSamples = [];
/** Per counted trial: { tag, t0, first, open, seqs, arrivals } (times: CLOCK_MONOTONIC ms). */
const details = [];
const transports = {};
let failures = 0;
let lastError;
// Trial 0 is a warm-up (module loading, JIT, first DNS-free connect): not counted.
for (let i = -1; i < trials; i++) {
  const trialTag = `${tag}.${i + 1}`;
  const t0 = nowMs();
  const deadline = t0 + timeoutMs;
  const trial = { tag: trialTag, t0, first: undefined, open: undefined, seqs: [], arrivals: [] };
  let conn;
  const got = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    try {
      conn = open(
        trialTag,
        () => {
          trial.open ??= nowMs();
        },
        (m) => {
          const at = nowMs();
          const s = seqOf(m);
          if (typeof s === "number") {
            trial.seqs.push(s);
            trial.arrivals.push(at);
          }
          if (trial.first === undefined) {
            trial.first = at;
            clearTimeout(timer);
            resolve(true);
          }
        },
      );
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
      clearTimeout(timer);
      resolve(false);
    }
  });
  if (got) {
    // Wait for the open event (bounded), then listen on for the observation window.
    while (trial.open === undefined && nowMs() < deadline) await sleep(5);
    // Labelled as before the window: the transport the channel opened on.
    trial.transport = conn?.transport?.();
    const until = Math.min(Math.max(trial.first, trial.open ?? trial.first) + windowMs, Math.max(deadline, trial.first + windowMs));
    await sleep(Math.max(0, until - nowMs()));
    trial.end = nowMs();
  }
  if (i >= 0) {
    if (trial.open !== undefined) openSamples.push(trial.open - t0);
    if (got) {
      samples.push(trial.first - t0);
      details.push(trial);
      const t = trial.transport;
      if (t) transports[t] = (transports[t] ?? 0) + 1;
    } else failures++;
  }
  try {
    conn?.close();
  } catch {
    // Closing a failed connection may throw; it is gone either way.
  }
  await sleep(30);
}
emit({ type: "ttfm", samples, openSamples, failures, error: lastError, transports, details });
setTimeout(() => process.exit(0), 50);
