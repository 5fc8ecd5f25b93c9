/**
 * The doctor page's script: runs `runDoctor` from the user's browser against the Throughline
 * path the page is served under (`P/doctor` → `P`), shows each transport's result, the verdict
 * and fixes, and offers the report for a support ticket ("copy report").
 * Query parameters: `timeout` and `watch` (ms) override the defaults.
 */
import { formatReport } from "./format.js";
import type { DoctorReport, TransportReport } from "./report.js";
import { runDoctor } from "./run.js";

const $ = (id: string) => document.getElementById(id)!;

function el(tag: string, cls: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function row(parent: HTMLElement, label: string, value: string, cls = ""): void {
  const r = el("div", `row ${cls}`);
  r.append(el("span", "label", label), el("span", "value", value));
  parent.append(r);
}

function card(r: TransportReport): HTMLElement {
  const ok = r.outcome === "proven" && !r.cut && !r.buffering;
  const c = el("section", `card ${ok ? "ok" : r.outcome === "proven" ? "warn" : "bad"}`);
  c.dataset.transport = r.transport;
  c.dataset.outcome = r.outcome;
  c.append(el("h2", "", `${r.transport}: ${r.outcome === "proven" ? `proven in ${r.provenMs} ms` : r.outcome}`));
  row(c, "reached", r.reachable ? `${r.status ?? "answered"} from ${r.answeredBy === "throughline" ? "the Throughline server" : "an intermediary"}${r.ttfbMs !== undefined ? ` · TTFB ${r.ttfbMs} ms` : ""}` : "no answer");
  const headers = Object.entries(r.headers).filter(([k]) => k !== "x-throughline");
  if (headers.length) row(c, "headers", headers.map(([k, v]) => `${k}: ${v}`).join(" · "));
  if (r.upgrade) row(c, "upgrade", r.upgrade.result + (r.upgrade.status ? ` (${r.upgrade.status})` : ""), "upgrade");
  if (r.buffering) row(c, "buffering", `${r.buffering.kind}: ${r.buffering.detail}`, "buffering");
  if (r.watch) row(c, "watch", `${r.watch.ms} ms, ${r.watch.heartbeats} heartbeat(s), lateness ${r.watch.maxLatenessMs} ms`);
  if (r.cut) row(c, "cut", `after ${r.cut.afterMs} ms (${r.cut.kind})`, "cut");
  if (r.outcome !== "proven") row(c, "reason", r.reason);
  return c;
}

function render(report: DoctorReport): void {
  const v = report.verdict;
  const cards = $("transports");
  cards.replaceChildren(...report.transports.map(card));
  const verdict = $("verdict");
  verdict.className = `verdict ${v.health}`;
  verdict.replaceChildren(el("h2", "", `${v.health.toUpperCase()}: ${v.pick ? `your browser would use ${v.pick}` : "no transport gets through"}`));
  const why = el("ul", "why");
  for (const w of v.why) why.append(el("li", "", w));
  verdict.append(why);
  if (v.intermediary) verdict.append(el("p", "intermediary", `Between you and the server: ${v.intermediary.name} (${v.intermediary.evidence})`));
  if (v.fixes.length) {
    const fixes = el("ul", "fixes");
    for (const f of v.fixes) fixes.append(el("li", "", `[${f.problem}] ${f.where}: ${f.text}`));
    verdict.append(fixes);
  }
  $("report").textContent = formatReport(report);
  document.body.dataset.health = v.health;
  document.body.dataset.state = "done";
}

async function copy(): Promise<void> {
  const text = $("report").textContent ?? "";
  try {
    await navigator.clipboard.writeText(text);
    $("copied").textContent = "Copied.";
  } catch {
    // No clipboard permission (http, iframes): select the text for a manual copy.
    const range = document.createRange();
    range.selectNodeContents($("report"));
    getSelection()?.removeAllRanges();
    getSelection()?.addRange(range);
    $("copied").textContent = "Selected: press Ctrl+C / ⌘C.";
  }
}

async function main(): Promise<void> {
  const q = new URLSearchParams(location.search);
  const url = location.origin + location.pathname.replace(/\/doctor\/?$/, "");
  const num = (k: string) => (q.has(k) ? Number(q.get(k)) : undefined);
  $("copy").addEventListener("click", () => void copy());
  $("target").textContent = url;
  document.body.dataset.state = "running";
  try {
    const report = await runDoctor({
      url,
      timeoutMs: num("timeout"),
      watchMs: num("watch") ?? 10_000,
      onProgress: (line) => ($("progress").textContent = line),
    });
    $("progress").textContent = `done in ${Math.round((Date.now() - Date.parse(report.startedAt)) / 1000)} s`;
    render(report);
  } catch (e) {
    $("progress").textContent = `the doctor failed: ${(e as Error).message}`;
    document.body.dataset.state = "error";
  }
}

void main();
