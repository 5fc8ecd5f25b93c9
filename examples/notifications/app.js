// The demo page: one channel, a live list, a reply button. `Throughline` is the IIFE bundle's global.
const MAX_ITEMS = 50;
const CHOICES = ["auto", "sse", "websocket", "long-poll"];

const $ = (id) => document.getElementById(id);
const choice = new URLSearchParams(location.search).get("transport") ?? "auto";
const picked = CHOICES.includes(choice) ? choice : "auto";
for (const a of $("picker").querySelectorAll("a")) {
  if (a.textContent === picked) a.setAttribute("aria-current", "page");
}

const ch = Throughline.connect(new URL("/realtime", location.href).href, {
  topics: ["notifications"],
  ...(picked === "auto" ? {} : { transports: [picked] }),
});
window.channel = ch; // handy in the devtools console

const STATES = { 0: "connecting", 1: "open", 2: "closed" };
function showState() {
  const s = typeof ch.readyState === "number" ? STATES[ch.readyState] ?? String(ch.readyState) : String(ch.readyState);
  $("state").textContent = s;
  $("state").className = `badge ${s}`;
  $("transport").textContent = ch.transport ?? "—";
  $("reply").disabled = s !== "open";
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text; // textContent only: replies come from other users
  return node;
}

function show(msg) {
  const list = $("events");
  list.querySelector(".empty")?.remove();
  const data = msg.data && typeof msg.data === "object" ? msg.data : { body: JSON.stringify(msg.data) };
  const item = el("li", String(data.level ?? msg.event));
  const meta = el("div", "meta");
  meta.append(el("span", "event", msg.event), el("span", "id", `#${msg.id}`));
  if (data.time) meta.append(el("span", "time", new Date(data.time).toLocaleTimeString()));
  item.append(meta);
  if (data.title) item.append(el("div", "title", data.title));
  if (data.body) item.append(el("div", "body", data.body));
  list.prepend(item);
  while (list.children.length > MAX_ITEMS) list.lastElementChild.remove();
}

// Negotiation, live: every attempt as it ends, and why the current transport is the one in use.
const ms = (v) => (v === undefined ? "—" : `${Math.round(v)} ms`);
function showAttempt(a) {
  const row = el("tr");
  row.append(
    el("td", "", a.transport),
    el("td", "", a.purpose),
    el("td", a.outcome === "proven" ? "proven" : a.outcome === "cancelled" ? "" : "failed", a.outcome),
    el("td", "", ms(a.openedMs)),
    el("td", "", ms(a.helloMs)),
    el("td", "", ms(a.provenMs)),
    el("td", "", ms(a.endedMs)),
    el("td", "", a.reason),
  );
  $("attempts").prepend(row);
  while ($("attempts").children.length > 20) $("attempts").lastElementChild.remove();
}
function showWhy() {
  const all = ch.diagnostics;
  const current = ch.transport;
  const proof = [...all].reverse().find((a) => a.transport === current && a.outcome === "proven");
  if (!current || !proof) return;
  const skipped = all.filter((a) => a.startedAt <= proof.startedAt + proof.endedMs && a.outcome !== "proven" && a.outcome !== "cancelled" && a.transport !== current);
  const before = skipped.length ? ` Before it: ${skipped.slice(-3).map((a) => `${a.transport} ${a.outcome} (${a.reason})`).join("; ")}.` : "";
  $("why").textContent = `On ${current} (${proof.purpose}): proven in ${ms(proof.provenMs)}: ${proof.reason}.${before}`;
}
for (const a of ch.diagnostics) showAttempt(a);
ch.on("attempt", (a) => {
  showAttempt(a);
  showWhy();
});
ch.on("transport", showWhy);

ch.on("*", (msg) => show(msg));
for (const ev of ["open", "close", "transport", "state"]) ch.on(ev, showState);
ch.on("open", () => ($("error").textContent = ""));
ch.on("error", (err) => ($("error").textContent = err?.message ?? String(err)));
// readyState has no event of its own on every path; a slow poll keeps the badge honest.
setInterval(showState, 1000);
showState();

$("reply").addEventListener("click", async () => {
  try {
    await ch.send({ text: `↩ Hello from a ${ch.transport} page at ${new Date().toLocaleTimeString()}` });
  } catch (err) {
    $("error").textContent = err?.message ?? String(err);
  }
});
