/**
 * Progress on stderr while a run goes on: one line per step with the elapsed time; on a
 * terminal the current step's status is rewritten in place, elsewhere (CI logs) only steps and
 * results are printed so the log stays readable.
 */
const tty = process.stderr.isTTY;
const t0 = Date.now();
let statusShown = false;

const stamp = () => {
  const s = Math.round((Date.now() - t0) / 1000);
  return `[${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}]`;
};

function clearStatus() {
  if (statusShown) {
    process.stderr.write("\r\x1b[2K");
    statusShown = false;
  }
}

/** A new step: printed on its own line. */
export function step(text) {
  clearStatus();
  process.stderr.write(`${stamp()} ${text}\n`);
}

/** The step's passing status (a terminal only). */
export function status(text) {
  if (!tty) return;
  clearStatus();
  process.stderr.write(`${stamp()}   … ${text}`.slice(0, (process.stderr.columns ?? 120) - 1));
  statusShown = true;
}

/** A result line under the current step. */
export function result(text) {
  clearStatus();
  process.stderr.write(`${stamp()}   → ${text}\n`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
