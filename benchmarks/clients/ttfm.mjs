/**
 * Time to first message, measured the way an application sees it: from calling the library's
 * connect (Throughline `connect()`, Socket.IO `io()`) to the first published message arriving,
 * and to the "open" event. Sequential trials, each bounded; one JSON line with the samples.
 *
 * Usage: node clients/ttfm.mjs <config> <origin> <trials> <timeoutMs>
 * config: throughline (negotiated), throughline-sse, throughline-websocket, throughline-long-poll,
 *         socketio (its default: polling, then upgrade), socketio-websocket, socketio-polling.
 */
import { emit } from "../lib/proc.mjs";
import { nowMs } from "../lib/payload.mjs";

const [config, origin, trialsArg, timeoutArg] = process.argv.slice(2);
const trials = Number(trialsArg);
const timeoutMs = Number(timeoutArg);
const [lib, transport] = config.includes("-") ? [config.slice(0, config.indexOf("-")), config.slice(config.indexOf("-") + 1)] : [config, undefined];

async function opener() {
  if (lib === "throughline") {
    const { connect } = await import("@throughline/client/node");
    return (onOpen, onData) => {
      // No transport memory: every trial is a first visit (a remembered choice would make the
      // hostile rows measure the second visit, which skips the negotiation).
      const ch = connect(`${origin}/realtime`, { topics: ["bench"], negotiation: { rememberMs: false }, ...(transport ? { transports: [transport] } : {}) });
      ch.on("open", onOpen);
      ch.on("*", (m) => onData(m));
      // The first message may arrive while the first attempt is still being proven (no
      // transport yet): the label is the transport the channel opens on.
      const opened = new Promise((resolve) => ch.on("open", resolve));
      return {
        close: () => ch.close(),
        transport: () => ch.transport,
        settled: () => Promise.race([opened, new Promise((r) => setTimeout(r, timeoutMs))]),
      };
    };
  }
  const { io } = await import("socket.io-client");
  return (onOpen, onData) => {
    const socket = io(origin, { forceNew: true, reconnection: false, ...(transport ? { transports: [transport] } : {}) });
    socket.on("connect", onOpen);
    socket.on("m", onData);
    return { close: () => socket.close(), transport: () => socket.io.engine?.transport?.name };
  };
}

const open = await opener();
const samples = [];
const openSamples = [];
const transports = {};
let failures = 0;
let lastError;
// Trial 0 is a warm-up (module loading, JIT, first DNS-free connect): not counted.
for (let i = -1; i < trials; i++) {
  const t0 = nowMs();
  let conn;
  const got = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    try {
      conn = open(
        () => openSamples.push(nowMs() - t0),
        () => {
          clearTimeout(timer);
          resolve(true);
        },
      );
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
      clearTimeout(timer);
      resolve(false);
    }
  });
  if (i < 0) openSamples.length = 0;
  else if (got) {
    samples.push(nowMs() - t0);
    if (conn?.settled) await conn.settled();
    const t = conn?.transport?.();
    if (t) transports[t] = (transports[t] ?? 0) + 1;
  } else failures++;
  try {
    conn?.close();
  } catch {
    // Closing a failed connection may throw; it is gone either way.
  }
  await new Promise((r) => setTimeout(r, 30));
}
emit({ type: "ttfm", samples, openSamples, failures, error: lastError, transports });
setTimeout(() => process.exit(0), 50);
