/**
 * `throughline doctor <url>`: runs the doctor from Node and prints the report (or `--json`).
 * Exit code: 0 healthy, 1 degraded, 2 failing, 64 bad usage (see EXIT_CODES).
 */
import { parseArgs } from "node:util";
import { ThroughlineError, TRANSPORTS, type TransportName } from "@throughline/wire";
import { COLOURS, PLAIN, formatReport } from "./format.js";
import { runNodeDoctor } from "./node.js";
import { EXIT_CODES } from "./report.js";
import { DEFAULT_DOCTOR_OPTIONS } from "./run.js";

export const USAGE = `usage: throughline doctor <url> [options]

Probes a Throughline endpoint with every transport and says what is in the way.

  --json                 print the report as JSON
  --token <token>        send Authorization: Bearer <token>
  --header "Name: value" an extra request header (repeatable)
  --topic <topic>        topic to subscribe while probing (repeatable; default "doctor")
  --transports <list>    comma-separated, in order of preference (default sse,websocket,long-poll)
  --timeout <ms>         proof timeout per transport (default ${DEFAULT_DOCTOR_OPTIONS.timeoutMs})
  --watch <ms>           how long to watch proven connections (default ${DEFAULT_DOCTOR_OPTIONS.watchMs})
  --no-color             plain text (also NO_COLOR=1, or when not a terminal)

exit code: 0 healthy, 1 degraded, 2 failing, 64 bad usage
`;

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  /** A terminal: colour and a live progress line. */
  readonly tty: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

const PROCESS_IO: CliIo = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  get tty() {
    return process.stdout.isTTY === true;
  },
  env: process.env,
};

function ms(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new ThroughlineError("TL_INVALID_OPTION", `--${name} must be a positive number of ms (got ${JSON.stringify(v)}).`);
  return n;
}

function headers(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of list) {
    const i = h.indexOf(":");
    if (i <= 0) throw new ThroughlineError("TL_INVALID_OPTION", `--header must be "Name: value" (got ${JSON.stringify(h.slice(0, 80))}).`);
    out[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  return out;
}

function transports(v: string | undefined): readonly TransportName[] | undefined {
  if (v === undefined) return undefined;
  const list = v.split(",").map((s) => s.trim());
  if (!list.every((t): t is TransportName => (TRANSPORTS as readonly string[]).includes(t))) {
    throw new ThroughlineError("TL_INVALID_OPTION", `--transports must be a comma-separated list of ${TRANSPORTS.join(", ")} (got ${JSON.stringify(v)}).`);
  }
  return list;
}

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = PROCESS_IO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: "boolean" },
        token: { type: "string" },
        header: { type: "string", multiple: true },
        topic: { type: "string", multiple: true },
        transports: { type: "string" },
        timeout: { type: "string" },
        watch: { type: "string" },
        "no-color": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    io.err(`throughline: ${(e as Error).message}\n\n${USAGE}`);
    return EXIT_CODES.usage;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return EXIT_CODES.healthy;
  }
  if (positionals[0] !== "doctor" || positionals.length !== 2) {
    io.err(`throughline: expected \`doctor <url>\`.\n\n${USAGE}`);
    return EXIT_CODES.usage;
  }
  const colour = io.tty && !values["no-color"] && !io.env.NO_COLOR && !values.json;
  let spinner: ReturnType<typeof setInterval> | undefined;
  let status = "starting";
  const started = Date.now();
  const draw = () => io.err(`\r\x1b[2K${COLOURS.dim(`${((Date.now() - started) / 1000).toFixed(1)} s`)} ${status}`);
  try {
    const options = {
      url: positionals[1]!,
      token: values.token,
      headers: headers(values.header ?? []),
      topics: values.topic,
      transports: transports(values.transports),
      timeoutMs: ms("timeout", values.timeout, DEFAULT_DOCTOR_OPTIONS.timeoutMs),
      watchMs: ms("watch", values.watch, DEFAULT_DOCTOR_OPTIONS.watchMs),
      onProgress: (line: string) => {
        status = line;
        if (colour) draw();
        else if (!values.json) io.err(`… ${line}\n`);
      },
    };
    if (colour) spinner = setInterval(draw, 200);
    const report = await runNodeDoctor(options);
    if (spinner) io.err("\r\x1b[2K");
    io.out(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, colour ? COLOURS : PLAIN));
    return EXIT_CODES[report.verdict.health];
  } catch (e) {
    if (spinner) io.err("\r\x1b[2K");
    if (e instanceof ThroughlineError && e.code === "TL_INVALID_OPTION") {
      io.err(`throughline: ${e.message.replace(/^Throughline: /, "")}\n`);
      return EXIT_CODES.usage;
    }
    throw e;
  } finally {
    if (spinner) clearInterval(spinner);
  }
}
