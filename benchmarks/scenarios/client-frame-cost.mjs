/**
 * The WebSocket load client's CPU per frame without sockets (issue #15, item 2): `ws`'s client
 * Receiver fed one frame per write (one frame per socket read, as at 100 msg/s), then the handler
 * of clients/ws.mjs, for Throughline's message frame and raw `ws`'s bare payload carrying the same
 * 64 B payload. Rounds interleave the kinds; prints the median and range of ns per frame.
 * What it leaves out (the socket read, epoll, the stream around it) is the same for every system.
 *
 *   node benchmarks/scenarios/client-frame-cost.mjs [--rounds 30]
 */
import { parseArgs } from "node:util";
import { Receiver } from "ws";
import { Histogram } from "../lib/hist.mjs";
import { makePayload, nowMs, readSeqTime } from "../lib/payload.mjs";

const { values: args } = parseArgs({ options: { rounds: { type: "string", default: "30" } } });
const FRAMES = 2_000;
const REPEAT = 50;

/** An unmasked final text frame (what a server sends). */
function frame(text) {
  const p = Buffer.from(text);
  const head = p.length < 126 ? Buffer.from([0x81, p.length]) : Buffer.from([0x81, 126, p.length >> 8, p.length & 0xff]);
  return Buffer.concat([head, p]);
}

/** Frames as each server writes them (Throughline: Envelope.json's layout, a typical id). */
const build = (wrap) => Array.from({ length: FRAMES }, (_, i) => frame(wrap(JSON.stringify(makePayload(i + 1, 64)), i + 1)));
const FRAMES_OF = {
  throughline: build((json, seq) => `{"type":"message","id":"mqx1b2c3-${seq}","topic":"bench","event":"message","data":${json}}`),
  raw: build((json) => json),
};

const hist = new Histogram();
const scratch = { s: 0, t: 0 };
const deliver = (text) => {
  if (readSeqTime(text, scratch)) hist.record(nowMs() - scratch.t);
};
/** The message handlers of clients/ws.mjs (the parts a message frame runs through). */
const HANDLERS = {
  throughline: (data) => {
    const text = data.toString();
    if (text.startsWith('{"type":"message"')) deliver(text);
  },
  raw: (data) => deliver(data.toString()),
};

function run(kind) {
  const r = new Receiver({ isServer: false });
  r.on("message", HANDLERS[kind]);
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < REPEAT; k++) for (const f of FRAMES_OF[kind]) r.write(f);
  return Number(process.hrtime.bigint() - t0) / (REPEAT * FRAMES);
}

const kinds = Object.keys(FRAMES_OF);
const ns = Object.fromEntries(kinds.map((k) => [k, []]));
for (let round = 0; round < Number(args.rounds); round++) for (const k of round % 2 ? kinds : [...kinds].reverse()) ns[k].push(run(k));
for (const k of kinds) {
  const s = ns[k].slice(2).sort((a, b) => a - b); // the first rounds warm the JIT
  console.log(`${k.padEnd(12)} ${FRAMES_OF[k][0].length} B frames: ${s[Math.floor(s.length / 2)].toFixed(0)} ns/frame median (${s[0].toFixed(0)}–${s.at(-1).toFixed(0)})`);
}
