/**
 * A load-client process: holds many subscriber connections of one kind, counts deliveries and
 * (when asked) publish→receive latency. Commands on stdin, JSON lines on stdout:
 *
 * - `{cmd:"connect", count, concurrency}` → `{type:"connected", open, failed, error}`
 * - `{cmd:"track", latency, seqs, progressMs}` resets the counters and streams
 *   `{type:"progress", delivered, min, open}` (`min`: the newest seq every open subscriber of
 *   this process has received: the publisher's credit)
 * - `{cmd:"report"}` → `{type:"report", delivered, open, cpuUs, hist}` (`cpuUs`: this process's
 *   CPU since `track`; with `seqs`, also `seqs: [[seq, [deliveries, min, max, sum ms]], …]`);
 *   `{cmd:"exit"}`
 *
 * Usage: node clients/load.mjs <kind> <url> [source address], kind one of KINDS.
 */
import { emit, onCommands } from "../lib/proc.mjs";
import { Histogram } from "../lib/hist.mjs";
import { nowMs, readSeqTime } from "../lib/payload.mjs";
import { openSse } from "./sse.mjs";
import { openWs } from "./ws.mjs";
import { openPoll } from "./poll.mjs";
import { openOfficial } from "./official.mjs";

/** `local`: optional source address of every connection (more than ~28k ports to one server). */
const [kind, url, local] = process.argv.slice(2);

/** kind → (deliverText, deliverData, onClose) → Promise<conn> */
const KINDS = {
  sse: (t, _d, c) => openSse(url, t, c, local),
  "ws-raw": (t, _d, c) => openWs("raw", url, t, c, local),
  "ws-throughline": (t, _d, c) => openWs("throughline", url, t, c, local),
  "ws-socketio": (t, _d, c) => openWs("socketio", url, t, c, local),
  "poll-throughline": (_t, d, c) => openPoll(url, d, c),
  "official-throughline-sse": (_t, d, c) => openOfficial("throughline", url, "sse", d, c),
  "official-throughline-websocket": (_t, d, c) => openOfficial("throughline", url, "websocket", d, c),
  "official-throughline-long-poll": (_t, d, c) => openOfficial("throughline", url, "long-poll", d, c),
  "official-socketio-websocket": (_t, d, c) => openOfficial("socketio", url, "websocket", d, c),
  "official-socketio-polling": (_t, d, c) => openOfficial("socketio", url, "polling", d, c),
};
if (!KINDS[kind]) {
  process.stderr.write(`unknown client kind ${kind}; one of ${Object.keys(KINDS).join(", ")}\n`);
  process.exit(2);
}

const conns = [];
/** Newest seq received per subscriber (index = connection number); -1 once closed. */
const last = [];
let open = 0;
let delivered = 0;
let latency = false;
let hist = new Histogram();
let progressTimer;
let trackCpu = process.cpuUsage();
let trackAt = nowMs();
const scratch = { s: 0, t: 0 };
/** Per-seq latency (`track` with `seqs`): seq → [deliveries, min ms, max ms, sum ms]. */
let seqs;

const cpuNow = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

const onSeq = (i, s, t) => {
  if (s > last[i]) last[i] = s;
  delivered++;
  if (latency) {
    const ms = nowMs() - t;
    hist.record(ms);
    if (seqs) {
      const e = seqs.get(s);
      if (e === undefined) seqs.set(s, [1, ms, ms, ms]);
      else {
        e[0]++;
        if (ms < e[1]) e[1] = ms;
        if (ms > e[2]) e[2] = ms;
        e[3] += ms;
      }
    }
  }
};

async function connectOne(i) {
  last[i] = 0;
  const conn = await KINDS[kind](
    (text) => {
      if (readSeqTime(text, scratch)) onSeq(i, scratch.s, scratch.t);
    },
    (obj) => {
      if (obj && typeof obj.s === "number") onSeq(i, obj.s, obj.t);
    },
    () => {
      if (last[i] !== -1) {
        last[i] = -1;
        open--;
      }
    },
  );
  open++;
  conns[i] = conn;
}

function minSeq() {
  let min = Infinity;
  for (let i = 0; i < last.length; i++) if (last[i] !== -1 && last[i] < min) min = last[i];
  return min === Infinity ? 0 : min;
}

onCommands(async (cmd) => {
  switch (cmd.cmd) {
    case "connect": {
      const base = last.length;
      let next = 0;
      let failed = 0;
      let error;
      const worker = async () => {
        while (next < cmd.count) {
          const i = base + next++;
          try {
            await connectOne(i);
          } catch (err) {
            last[i] = -1;
            failed++;
            error ??= err instanceof Error ? err.message : String(err);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(cmd.concurrency ?? 50, cmd.count) }, worker));
      emit({ type: "connected", open, failed, error });
      break;
    }
    case "track":
      delivered = 0;
      hist = new Histogram();
      latency = !!cmd.latency;
      seqs = cmd.seqs ? new Map() : undefined;
      trackCpu = process.cpuUsage();
      trackAt = nowMs();
      clearInterval(progressTimer);
      progressTimer = setInterval(() => emit({ type: "progress", delivered, min: minSeq(), open, cpuUs: cpuNow() }), cmd.progressMs ?? 20);
      break;
    case "report":
      clearInterval(progressTimer);
      {
        const cpu = process.cpuUsage(trackCpu);
        // This process's CPU share since `track`: 100 means the load client itself was the limit.
        const cpuPct = ((cpu.user + cpu.system) / 1000 / (nowMs() - trackAt)) * 100;
        emit({ type: "report", delivered, open, min: minSeq(), cpuPct, cpuUs: cpu.user + cpu.system, hist: hist.toJSON(), ...(seqs ? { seqs: [...seqs] } : {}) });
      }
      break;
    case "exit":
      clearInterval(progressTimer);
      for (const c of conns) c?.close();
      setTimeout(() => process.exit(0), 50);
      break;
    default:
      throw new Error(`unknown command ${cmd.cmd}`);
  }
});
emit({ type: "ready", kind });
