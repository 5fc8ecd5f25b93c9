#!/usr/bin/env node
/**
 * Bounded soak of the "nothing lost" guarantees: `npm run soak -- --minutes N` (default 1, at
 * most 60). Uses the built packages (`npm run soak` builds first).
 *
 * Everything runs on 127.0.0.1: a Throughline instance behind a retargetable TCP forwarder (a
 * load balancer), clients on every transport (plus negotiating clients that get forced
 * switches), some through hostile proxies (latency = slow reads; cut-after = periodic proxy
 * cuts). A publisher publishes continuously on several topics while chaos happens: network cuts,
 * paused readers (backpressure up to 4408 TOO_SLOW), graceful restarts onto a new instance that
 * shares the history store (must be lossless) or, rarely, one with a fresh store (a new epoch:
 * gap events allowed), transport switches, and clients that close and reconnect with their
 * cursor on another transport.
 *
 * Prints a progress line every 10 s and, at the end, per transport: published, delivered,
 * duplicated, lost (missing without a gap event before them) and gap figures. Exits 1 on any
 * loss or duplicate, 2 if the final messages did not arrive in time.
 */
import { MemoryHistoryStore, createServer } from "@throughline/server";
import { connect } from "@throughline/client/node";
import { startForwarder, startHostileProxy } from "@throughline/testkit";

// ---- arguments ----
const argv = process.argv.slice(2);
if (argv.includes("--cluster")) {
  // `npm run soak -- --cluster [--minutes N]`: the multi-node soak (it exits when done).
  process.argv = process.argv.filter((a) => a !== "--cluster");
  await import("./soak-cluster.mjs");
}
const at = argv.indexOf("--minutes");
const minutes = at >= 0 ? Number(argv[at + 1]) : 1;
if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 60) {
  console.error("usage: node scripts/soak.mjs [--minutes N]   (0 < N ≤ 60, default 1)");
  process.exit(64);
}
const seedArg = argv.indexOf("--seed");
let seed = seedArg >= 0 ? Number(argv[seedArg + 1]) >>> 0 || 1 : (Date.now() >>> 0) || 1;
const startSeed = seed;
/** Seeded PRNG (xorshift32), so a failing run can be repeated with --seed. */
const random = () => {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 4294967296;
};
const pick = (xs) => xs[Math.floor(random() * xs.length)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const TOPICS = ["a", "b", "c", "d"];
const TRANSPORTS = ["sse", "websocket", "long-poll"];
const SERVER_OPTIONS = {
  heartbeatMs: 2_000,
  longPollHoldMs: 1_000,
  retryMs: 100,
  maxBufferedMessages: 200,
  maxBufferedBytes: 256 * 1024,
  maxOutboundBytes: 64 * 1024,
  maxConnectionsPerAddress: 10_000,
  maxPollsPerSecond: 1_000,
};
const STORE_OPTIONS = { size: 20_000, maxAgeMs: 3_600_000 };

// ---- instances ----
let store = new MemoryHistoryStore(STORE_OPTIONS);
async function startInstance() {
  const rt = createServer({ ...SERVER_OPTIONS, historyStore: store });
  const { port } = await rt.listen(0, "127.0.0.1");
  return { rt, port };
}
let inst = await startInstance();
const fwd = await startForwarder(inst.port);
const latency = await startHostileProxy(fwd.url, { kind: "latency", ms: 5, jitterMs: 25 }, { random });
const cutter = await startHostileProxy(fwd.url, { kind: "cut-after", ms: 3_000 });
const ROUTES = { direct: fwd.url, latency: latency.url, "cut-after": cutter.url };

// ---- clients: one logical client = a timeline across channels ----
const counters = { published: 0, cuts: 0, pauses: 0, restarts: 0, freshRestarts: 0, switches: 0, reconnectsOn: 0, errors: 0 };
const published = new Map(TOPICS.map((t) => [t, 0]));
const clients = [];

function openChannel(c, transports, cursor) {
  const ch = connect(`${ROUTES[c.route]}/realtime`, {
    transports,
    topics: TOPICS,
    cursor,
    reconnect: { minDelayMs: 20, maxDelayMs: 2_000 },
    connectTimeoutMs: 10_000,
  });
  ch.on("*", (m) => c.seen.push({ kind: "msg", topic: m.topic, n: m.data.n }));
  ch.on("gap", (g) => c.seen.push({ kind: "gap", topic: g.topic }));
  ch.on("open", () => c.opens++);
  ch.on("error", () => counters.errors++);
  ch.on("close", (info) => {
    if (c.ch === ch && !stopping) c.closedUnexpectedly = info;
  });
  c.ch = ch;
  return ch;
}

function addClient(group, transports, route) {
  const c = { group, transports, route, seen: [], opens: 0, ch: undefined, closedUnexpectedly: undefined };
  openChannel(c, transports, undefined);
  clients.push(c);
}
for (const t of TRANSPORTS) for (const route of ["direct", "latency", "cut-after"]) addClient(t, [t], route);
// Negotiating clients: all transports, forced switches both ways during the run.
addClient("mixed", [...TRANSPORTS], "direct");
addClient("mixed", [...TRANSPORTS], "latency");

let stopping = false;
const deadlineFirst = Date.now() + 20_000;
while (clients.some((c) => c.opens === 0)) {
  if (Date.now() > deadlineFirst) {
    console.error("soak: clients did not connect within 20 s");
    process.exit(2);
  }
  await sleep(20);
}

// ---- the run ----
const started = Date.now();
const endAt = started + minutes * 60_000;
console.log(`soak: ${minutes} min, seed ${startSeed}, ${clients.length} clients (${TRANSPORTS.join(", ")}, mixed), topics ${TOPICS.join(",")}`);

const publisher = (async () => {
  while (Date.now() < endAt) {
    const burst = random() < 0.05 ? 100 + Math.floor(random() * 300) : 1 + Math.floor(random() * 4);
    const big = random() < 0.1;
    for (let i = 0; i < burst; i++) {
      const topic = pick(TOPICS);
      const n = published.get(topic);
      inst.rt.publish(topic, big ? { n, pad: "p".repeat(2_000) } : { n });
      published.set(topic, n + 1);
      counters.published++;
    }
    await sleep(15 + Math.floor(random() * 20));
  }
})();

let restarting = false;
const chaos = (async () => {
  while (Date.now() < endAt - 2_000) {
    await sleep(500 + Math.floor(random() * 2_000));
    if (Date.now() >= endAt - 2_000) break;
    const r = random();
    if (r < 0.25) {
      fwd.cut();
      counters.cuts++;
    } else if (r < 0.45) {
      fwd.pause(200 + Math.floor(random() * 1_800));
      counters.pauses++;
    } else if (r < 0.6 && !restarting) {
      restarting = true;
      const fresh = random() < 0.15;
      if (fresh) {
        store = new MemoryHistoryStore(STORE_OPTIONS);
        counters.freshRestarts++;
      }
      const next = await startInstance();
      fwd.setTarget(next.port);
      const old = inst;
      inst = next; // publishes go to the new instance from now on
      await old.rt.close();
      counters.restarts++;
      restarting = false;
    } else if (r < 0.8) {
      const c = pick(clients.filter((x) => x.group === "mixed"));
      counters.switches++;
      c.ch.switchTransport(pick(TRANSPORTS)).catch(() => {});
    } else {
      // The application's own switch: close, reconnect with the cursor on another transport.
      const c = pick(clients.filter((x) => x.group !== "mixed"));
      const cursor = c.ch.cursor ?? undefined;
      c.ch.close();
      const others = TRANSPORTS.filter((t) => t !== c.ch.transport);
      openChannel(c, [pick(others)], cursor);
      counters.reconnectsOn++;
    }
  }
})();

const delivered = () => clients.reduce((n, c) => n + c.seen.filter((e) => e.kind === "msg").length, 0);
const progress = setInterval(() => {
  const s = Math.round((Date.now() - started) / 1000);
  console.log(
    `[${s}s] published ${counters.published}, delivered ${delivered()}, cuts ${counters.cuts}, pauses ${counters.pauses}, restarts ${counters.restarts} (${counters.freshRestarts} fresh), switches ${counters.switches}, app reconnects ${counters.reconnectsOn}, client errors ${counters.errors}`,
  );
}, 10_000);

await publisher;
await chaos;
while (restarting) await sleep(50);
stopping = true;

// Final message per topic: once every client has it, everything before was delivered or gapped.
for (const t of TOPICS) {
  const n = published.get(t);
  inst.rt.publish(t, { n, final: true });
  published.set(t, n + 1);
  counters.published++;
}
const hasFinals = (c) => TOPICS.every((t) => c.seen.some((e) => e.kind === "msg" && e.topic === t && e.n === published.get(t) - 1));
const finalDeadline = Date.now() + 60_000;
while (!clients.every(hasFinals) && Date.now() < finalDeadline) await sleep(50);
clearInterval(progress);
const complete = clients.every(hasFinals);

// ---- figures ----
function analyse(c) {
  const r = { delivered: 0, duplicated: 0, lost: 0, gapEvents: 0, gapCovered: 0 };
  for (const topic of TOPICS) {
    let expected = 0;
    let gapSince = false;
    for (const e of c.seen) {
      if (e.kind === "gap") {
        if (e.topic === topic || e.topic === "*") gapSince = true;
        continue;
      }
      if (e.topic !== topic) continue;
      r.delivered++;
      if (e.n < expected) {
        r.duplicated++;
        continue;
      }
      if (e.n > expected) {
        if (gapSince) r.gapCovered += e.n - expected;
        else r.lost += e.n - expected;
      }
      expected = e.n + 1;
      gapSince = false;
    }
    const count = published.get(topic);
    if (expected < count) r.lost += count - expected;
  }
  r.gapEvents = c.seen.filter((e) => e.kind === "gap").length;
  return r;
}
const groups = new Map();
for (const c of clients) {
  const g = groups.get(c.group) ?? { clients: 0, expected: 0, delivered: 0, duplicated: 0, lost: 0, gapEvents: 0, gapCovered: 0, opens: 0 };
  const r = analyse(c);
  g.clients++;
  g.expected += counters.published;
  g.opens += c.opens;
  for (const k of ["delivered", "duplicated", "lost", "gapEvents", "gapCovered"]) g[k] += r[k];
  groups.set(c.group, g);
}
console.log(`\nsoak finished after ${((Date.now() - started) / 60_000).toFixed(1)} min (seed ${startSeed})`);
console.log(`published ${counters.published} messages on ${TOPICS.length} topics; cuts ${counters.cuts}, pauses ${counters.pauses}, restarts ${counters.restarts} (${counters.freshRestarts} onto a fresh history), forced switches ${counters.switches}, app-level transport switches ${counters.reconnectsOn}`);
console.log("transport   clients  published×clients  delivered  duplicated  lost  gap-events  gap-covered  (re)opens");
let bad = 0;
for (const [name, g] of groups) {
  bad += g.lost + g.duplicated;
  console.log(
    `${name.padEnd(11)} ${String(g.clients).padStart(7)}  ${String(g.expected).padStart(17)}  ${String(g.delivered).padStart(9)}  ${String(g.duplicated).padStart(10)}  ${String(g.lost).padStart(4)}  ${String(g.gapEvents).padStart(10)}  ${String(g.gapCovered).padStart(11)}  ${String(g.opens).padStart(9)}`,
  );
}
const unexpected = clients.filter((c) => c.closedUnexpectedly);
if (unexpected.length > 0) console.log(`channels closed for good during the run: ${unexpected.length} (${unexpected.map((c) => c.closedUnexpectedly.code).join(", ")})`);

stopping = true;
for (const c of clients) c.ch.close();
await inst.rt.close();
await latency.close();
await cutter.close();
await fwd.close();

if (!complete) {
  console.log("RESULT: FAIL — final messages did not reach every client within 60 s");
  process.exit(2);
}
if (bad > 0) {
  console.log(`RESULT: FAIL — ${bad} lost or duplicated deliveries not covered by a gap`);
  process.exit(1);
}
console.log("RESULT: OK — nothing lost, nothing duplicated (every missing message is covered by a gap event)");
process.exit(0);
