/**
 * The benchmark message: `{"s":<seq>,"t":<publish time (a fixed-rate run: when it was due)>,"p":"xxx…"}`, padded so that its JSON is
 * `size` bytes. `t` is CLOCK_MONOTONIC in ms (process.hrtime), which every process on the machine
 * shares, so a load client can subtract it from its own clock to get publish→receive latency.
 */

/** Monotonic time in ms with µs resolution, comparable across processes on one machine. */
export function nowMs() {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}

const padCache = new Map();
function pad(n) {
  let p = padCache.get(n);
  if (p === undefined) {
    p = "x".repeat(Math.max(0, n));
    padCache.set(n, p);
  }
  return p;
}

/**
 * The payload object for message `seq`, whose JSON is about `size` bytes (never less than the
 * header). `t`: the time it counts from, @default now (a fixed-rate run passes its scheduled time).
 */
export function makePayload(seq, size, t = nowMs()) {
  // `{"s":,"t":,"p":""}` is 18 bytes plus the digits.
  const head = 18 + String(seq).length + String(t).length;
  return { s: seq, t, p: pad(size - head) };
}

/**
 * Reads `s` and `t` from any text holding a payload's JSON (bare, or wrapped in a system's
 * envelope: SSE data line, Throughline frame, Socket.IO packet), without parsing the rest: the
 * load client must not be the bottleneck. Returns false if the text holds no payload.
 */
export function readSeqTime(text, out) {
  const i = text.indexOf('"s":');
  if (i === -1) return false;
  const j = text.indexOf(',"t":', i + 4);
  if (j === -1) return false;
  const k = text.indexOf(",", j + 5);
  out.s = Number(text.slice(i + 4, j));
  out.t = Number(text.slice(j + 5, k === -1 ? undefined : k));
  return Number.isFinite(out.s) && Number.isFinite(out.t);
}
