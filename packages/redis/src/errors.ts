/** The backplane's errors: one code for "the store did not confirm", with the cause attached. */
import { ThroughlineError } from "@throughline/wire";

/** `TL_BACKPLANE_UNAVAILABLE` for `what`, keeping the client library's error as `cause`. */
export function unavailable(what: string, cause?: unknown): ThroughlineError {
  const reason = cause instanceof Error ? `: ${cause.message}` : "";
  return new ThroughlineError("TL_BACKPLANE_UNAVAILABLE", `${what} failed, Redis is unreachable or too slow${reason}. The operation is not confirmed; retry later.`, { status: 503, cause });
}

export function closed(): ThroughlineError {
  return new ThroughlineError("TL_CLOSED", "the backplane is closed.");
}

/** Runs `op`, turning any failure that is not already a ThroughlineError into `unavailable(what)`. */
export async function guard<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw err instanceof ThroughlineError ? err : unavailable(what, err);
  }
}
