/**
 * Unknown option names, refused where options are read (issue #11: a misspelled option used to
 * be ignored, leaving its default silently in force). Shared by the server's and the client's
 * option resolvers so both say it the same way, with the closest known name as a hint.
 */
import { ThroughlineError } from "./errors.js";

/** Levenshtein distance, bounded by `max + 1` (enough to rank near misses). */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * Throws `TL_INVALID_OPTION` for the first own key of `options` that `known` lacks, naming it (with
 * `prefix`, e.g. `"history."`) and the closest known name when one is near. Values are not read:
 * `{ tokn: secret }` never puts the secret in the message.
 * @param known a table whose keys are the option names (values unused), typed by the caller as
 *   `Record<keyof XOptions, …>` so a new option cannot be forgotten here.
 */
export function checkOptionNames(options: object, known: Readonly<Record<string, unknown>>, prefix = ""): void {
  for (const key of Object.keys(options)) {
    if (Object.prototype.hasOwnProperty.call(known, key)) continue;
    let best: string | undefined;
    let bestDistance = 3;
    for (const name of Object.keys(known)) {
      const d = distance(key, name, 2);
      if (d < bestDistance) {
        best = name;
        bestDistance = d;
      }
    }
    const hint = best === undefined ? "" : ` (did you mean \`${prefix}${best}\`?)`;
    throw new ThroughlineError("TL_INVALID_OPTION", `unknown option \`${prefix}${key.slice(0, 60)}\`${hint}.`);
  }
}
