/**
 * Server CPU per delivery at a fixed rate, with clients that only drain their sockets (issue #15,
 * write coalescing). The regular load clients parse every message; on a small machine they, not
 * the server, fall behind, which changes what the server does (full socket buffers, big writes).
 * Here N raw TCP subscribers (SSE requests or WebSocket upgrades written by hand) just count bytes,
 * so the server's socket buffers stay empty and its CPU time is the write path's.
 *
 *   node benchmarks/scenarios/coalesce-probe.mjs [--systems raw-ws,throughline-ws,raw-sse,throughline-sse]
 *        [--n 1000] [--rate 1000] [--seconds 3] [--runs 1] [--pin]
 *
 * `--pin` (with `taskset` on PATH) moves the server process to CPU 0 and this process to CPU 1;
 * `--cpu-prof DIR` writes the server's V8 CPU profile there when it exits.
 * Prints one line per run: µs of server CPU per delivery, deliveries, the bytes received and the
 * messages per socket read (how many messages a write carried, roughly: the batch size).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Child } from "../lib/proc.mjs";

const { values: args } = parseArgs({
  options: {
    systems: { type: "string", default: "raw-ws,throughline-ws,raw-sse,throughline-sse" },
    n: { type: "string", default: "1000" },
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "3" },
    runs: { type: "string", default: "1" },
    size: { type: "string", default: "64" },
    pin: { type: "boolean", default: false },
    "cpu-prof": { type: "string" },
  },
});

/** Server script and request line per system. */
const SYSTEMS = {
  "raw-ws": { server: "raw-ws", path: "/", ws: true },
  "raw-sse": { server: "raw-sse", path: "/sse", ws: false },
  "throughline-ws": { server: "throughline", path: "/realtime/ws?topics=bench", ws: true },
  "throughline-sse": { server: "throughline", path: "/realtime/sse?topics=bench", ws: false },
};

const here = (p) => fileURLToPath(new URL(`../${p}`, import.meta.url));

function pin(pid, cpu) {
  try {
    execFileSync("taskset", ["-a", "-p", "-c", String(cpu), String(pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Opens one draining subscriber; resolves once the response head (101 or 200) arrived. */
function subscribe(port, sys, counter) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const head = sys.ws
      ? `GET ${sys.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`
      : `GET ${sys.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`;
    let ready = false;
    socket.setNoDelay(true);
    socket.on("connect", () => socket.write(head));
    socket.on("data", (b) => {
      counter.bytes += b.length;
      counter.reads++;
      if (!ready && b.includes("\r\n\r\n")) {
        ready = true;
        resolve(socket);
      }
    });
    socket.on("error", (err) => (ready ? undefined : reject(err)));
  });
}

async function measure(id) {
  const sys = SYSTEMS[id];
  if (!sys) throw new Error(`unknown system ${id}`);
  const nodeArgs = args["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${args["cpu-prof"]}`] : [];
  const server = new Child(here(`servers/${sys.server}.mjs`), [], { name: `${id} server`, nodeArgs });
  const listening = await server.wait((m) => m.type === "listening", 20_000, "listening");
  const pinned = args.pin && pin(server.proc.pid, 0) && pin(process.pid, 1);
  const counter = { bytes: 0, reads: 0 };
  const sockets = [];
  const n = Number(args.n);
  for (let i = 0; i < n; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 50); j++) batch.push(subscribe(listening.port, sys, counter));
    sockets.push(...(await Promise.all(batch)));
  }
  await new Promise((r) => setTimeout(r, 300)); // hellos, probes, openings
  const rows = [];
  for (let run = 0; run < Number(args.runs); run++) {
    const s0 = await server.request({ cmd: "stats" }, "stats", 30_000);
    const b0 = counter.bytes;
    const r0 = counter.reads;
    await server.request({ cmd: "run", mode: "rate", size: Number(args.size), rate: Number(args.rate), durationMs: Number(args.seconds) * 1000 }, "started");
    const done = await server.wait((m) => m.type === "done" && m.first > s0.seq, Number(args.seconds) * 1000 + 15_000, "done");
    await new Promise((r) => setTimeout(r, 200)); // the last writes drain
    const s1 = await server.request({ cmd: "stats" }, "stats", 30_000);
    const published = done.last - done.first + 1;
    const deliveries = published * sockets.length;
    rows.push({ id, cpuUs: (s1.cpuUs - s0.cpuUs) / deliveries, deliveries, mb: (counter.bytes - b0) / 1e6, perRead: deliveries / (counter.reads - r0), pinned });
    server.messages.length = 0;
  }
  for (const s of sockets) s.destroy();
  server.send({ cmd: "exit" });
  await server.wait(() => false, 3_000, "exit").catch(() => {});
  return rows;
}

for (const id of args.systems.split(",")) {
  for (const r of await measure(id)) {
    console.log(`${r.id.padEnd(16)} ${r.cpuUs.toFixed(3)} µs CPU/delivery  (${r.deliveries} deliveries, ${r.mb.toFixed(1)} MB received, ${r.perRead.toFixed(1)} messages per socket read${r.pinned ? ", server on CPU 0, clients on CPU 1" : ""})`);
  }
}
process.exit(0);
