/**
 * Unknown option names, refused where options are read (issue #11: a misspelled option used to
 * be ignored, leaving its default silently in force). Shared by the server's and the client's
 * option resolvers so both say it the same way.
 */
import { DEV } from "./dev.js";
import { ThroughlineError } from "./errors.js";

/**
 * Throws `TL_INVALID_OPTION` for the first own key of `options` that `known` lacks, naming it (with
 * `prefix`, e.g. `"history."`) and listing the known names (no spelling heuristics: this ships
 * in the browser bundle; the production bundle names only the key). Values are not read: `{ tokn: secret }` never puts the secret in the
 * message.
 * @param known the option names (see `optionNames`).
 */
export function checkOptionNames(options: object, known: readonly string[], prefix = ""): void {
  for (const key of Object.keys(options)) {
    // The name spelled in each arm, not held in a variable: a production bundle keeps one expression.
    if (!known.includes(key)) {
      throw new ThroughlineError("TL_INVALID_OPTION", DEV ? `unknown option \`${prefix + key.slice(0, 60)}\` (known: ${known.join(", ")}).` : prefix + key.slice(0, 60));
    }
  }
}

/** The words of `S` (split on spaces), as a union. */
type Words<S extends string> = S extends `${infer W} ${infer Rest}` ? W | Words<Rest> : S;

/**
 * The option names of `T` from one space-separated string (compact in a bundle), checked by the
 * compiler against `keyof T` both ways: a new option cannot be forgotten, nor a name misspelled.
 * Usage: `optionNames<ConnectOptions>()("topics transports …")`.
 */
export function optionNames<T>() {
  return <S extends string>(
    names: S & ([Exclude<keyof T, Words<S>>] extends [never] ? ([Exclude<Words<S>, keyof T>] extends [never] ? unknown : { misspelled: Exclude<Words<S>, keyof T> }) : { missing: Exclude<keyof T, Words<S>> }),
  ): readonly string[] => names.split(" ");
}
