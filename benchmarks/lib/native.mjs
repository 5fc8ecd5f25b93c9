/**
 * The native WebSocket load client (native/ws-load.c), compiled on first use with the system's C
 * compiler into node_modules/.cache (rebuilt when the source changes).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const SOURCE = fileURLToPath(new URL("../native/ws-load.c", import.meta.url));
const CACHE = fileURLToPath(new URL("../../node_modules/.cache/throughline-bench/", import.meta.url));

/** The C compiler to use: $CC, else `cc`. */
export function compiler() {
  return process.env.CC || "cc";
}

/**
 * Path of the compiled client, compiling it if needed.
 * @throws Error when no C compiler is installed or the build fails (the message says which)
 */
export function nativeWsLoad() {
  const hash = createHash("sha256").update(readFileSync(SOURCE)).digest("hex").slice(0, 16);
  const out = `${CACHE}ws-load-${hash}`;
  if (existsSync(out)) return out;
  mkdirSync(CACHE, { recursive: true });
  // Built under a name of its own, then renamed: a run and a test building at once never execute
  // a half-written binary.
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    execFileSync(compiler(), ["-O2", "-Wall", "-o", tmp, SOURCE, "-lm"], { stdio: ["ignore", "ignore", "pipe"], timeout: 60_000 });
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { force: true });
    const why = err.code === "ENOENT" ? `no C compiler (${compiler()}) installed` : String(err.stderr ?? err.message).trim().split("\n").slice(-3).join(" | ");
    throw new Error(`native WebSocket load client unavailable: ${why}`);
  }
  return out;
}
