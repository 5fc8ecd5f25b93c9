/** Option validation shared by the server's option resolvers: one error shape, one code. */
import { ThroughlineError } from "@throughline/wire";

/** Node's timers overflow (and fire after 1 ms) beyond this. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A `TL_INVALID_OPTION` error naming the option and why it is refused. */
export const invalid = (name: string, why: string) => new ThroughlineError("TL_INVALID_OPTION", `option \`${name}\` ${why}.`);

/** `value` if it is an integer in `[min, max]`, `fallback` if undefined; otherwise throws `TL_INVALID_OPTION`. */
export function int(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(name, `must be an integer from ${min} to ${max} (got ${String(value).slice(0, 40)})`);
  }
  return value;
}
