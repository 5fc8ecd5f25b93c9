/**
 * Labels and validation of behaviours. Bad input (a typo'd kind, a negative delay) fails fast
 * with TL_INVALID_OPTION instead of a proxy that silently does nothing.
 */
import { ThroughlineError } from "@throughline/wire";
import { DEFAULT_COMPRESS_BLOCK_BYTES } from "./compress.js";
import type { Behaviour, BehaviourKind } from "./types.js";

/** Every behaviour kind, in the order of the scenario table. */
export const BEHAVIOUR_KINDS: readonly BehaviourKind[] = Object.freeze([
  "pass",
  "buffer-all",
  "buffer-bytes",
  "hold-first-event",
  "compress",
  "refuse-upgrade",
  "strip-upgrade",
  "upgrade-then-close",
  "block-event-stream",
  "cut-idle",
  "cut-after",
  "latency",
] as const);

function size(bytes: number): string {
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} B`;
}

function duration(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** A short human label, e.g. "buffer 8 KB", for scenario tables. */
export function describeBehaviour(b: Behaviour | readonly Behaviour[]): string {
  if (Array.isArray(b)) return b.length === 0 ? "pass" : b.map((x: Behaviour) => describeBehaviour(x)).join(" + ");
  const one = b as Behaviour;
  switch (one.kind) {
    case "pass":
      return "pass";
    case "buffer-all":
      return "buffer whole response";
    case "buffer-bytes":
      return `buffer ${size(one.bytes)}`;
    case "hold-first-event":
      return "hold first event";
    case "compress":
      return `gzip, ${size(one.blockBytes ?? DEFAULT_COMPRESS_BLOCK_BYTES)} blocks`;
    case "refuse-upgrade":
      return "refuse WebSocket";
    case "strip-upgrade":
      return "strip Upgrade";
    case "upgrade-then-close":
      return "close after 101";
    case "block-event-stream":
      return "block event-stream";
    case "cut-idle":
      return `cut idle ${duration(one.ms)}`;
    case "cut-after":
      return `cut after ${duration(one.ms)}`;
    case "latency":
      return one.jitterMs ? `latency ${duration(one.ms)} ±${duration(one.jitterMs)}` : `latency ${duration(one.ms)}`;
  }
}

// Timers beyond this overflow Node's 32-bit timer range and fire at once.
const MAX_MS = 2 ** 31 - 1;

function invalid(message: string): ThroughlineError {
  return new ThroughlineError("TL_INVALID_OPTION", message);
}

function checkNumber(value: unknown, what: string, min: number, max: number, integer: boolean): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw invalid(`${what} must be ${integer ? "an integer" : "a number"} from ${min} to ${max} (got ${String(value)}).`);
  }
}

/**
 * Checks one behaviour (it may come from untyped code or a JSON scenario file).
 * @throws ThroughlineError TL_INVALID_OPTION naming the bad field.
 */
export function validateBehaviour(b: unknown): Behaviour {
  if (typeof b !== "object" || b === null) throw invalid(`a behaviour must be an object like { kind: "pass" } (got ${String(b)}).`);
  const kind = (b as { kind?: unknown }).kind;
  if (typeof kind !== "string" || !(BEHAVIOUR_KINDS as readonly string[]).includes(kind)) {
    throw invalid(`unknown behaviour kind ${JSON.stringify(kind)}; expected one of ${BEHAVIOUR_KINDS.join(", ")}.`);
  }
  const v = b as Record<string, unknown>;
  if (kind === "buffer-bytes") checkNumber(v.bytes, "buffer-bytes.bytes", 1, 2 ** 30, true);
  if (kind === "compress" && v.blockBytes !== undefined) checkNumber(v.blockBytes, "compress.blockBytes", 1, 2 ** 30, true);
  if (kind === "cut-idle" || kind === "cut-after" || kind === "latency") checkNumber(v.ms, `${kind}.ms`, 0, MAX_MS, false);
  if (kind === "latency" && v.jitterMs !== undefined) checkNumber(v.jitterMs, "latency.jitterMs", 0, MAX_MS, false);
  return b as Behaviour;
}

/** Normalizes `Behaviour | Behaviour[]` to a validated array. */
export function validateBehaviours(input: unknown): Behaviour[] {
  const list = Array.isArray(input) ? input : [input];
  return list.map((b) => validateBehaviour(b));
}
