/**
 * Authentication and authorization hooks: what the application's `authenticate` may return,
 * how it becomes a principal (user, key for per-user limits, expiry), and the bounded calls.
 */
import type { ServerRequest } from "./exchange.js";
import { ThroughlineError, httpError } from "@throughline/wire";

/** What `authenticate` may return to also say when the credentials expire. */
export interface AuthResult<U = unknown> {
  /** The authenticated user, passed to `authorize`. */
  readonly user: U;
  /**
   * When the credentials expire (ms since the epoch, same clock as the server's `clock`). Open
   * connections are closed with 4401 AUTH_EXPIRED then; the client refreshes and resumes.
   * @default undefined (never)
   */
  readonly expiresAt?: number;
}

/**
 * Decides who a request is. Return the user (any value but `null`/`undefined`/`false`), or an
 * `AuthResult` (`{ user, expiresAt }`; a user object that itself has a `user` field must be
 * wrapped like that). `null`, `undefined`, `false` or a throw → 401 TL_UNAUTHORIZED.
 */
export type Authenticate = (req: ServerRequest) => unknown;

/**
 * Decides whether `user` may receive `topic` (`"*"` when the connection asks for all topics).
 * Anything but `true` (or a throw) → 403 TL_FORBIDDEN (WebSocket: close 4403).
 */
export type Authorize = (user: unknown, topic: string, req: ServerRequest) => boolean | Promise<boolean>;

/** Who a request is, after `authenticate`. */
export interface Principal {
  readonly user: unknown;
  /** Identity for per-user limits and session ownership: a string/number user, or `user.id`. */
  readonly key: string | undefined;
  readonly expiresAt: number | undefined;
}

/** The principal of every request when no `authenticate` is configured. */
export const ANONYMOUS: Principal = Object.freeze({ user: undefined, key: undefined, expiresAt: undefined });

/**
 * How long `authenticate`/`authorize` may take before the request is answered 500: an
 * application callback that never settles must not pin sockets forever.
 */
export const AUTH_CALLBACK_TIMEOUT_MS = 10_000;

function userKey(user: unknown): string | undefined {
  if (typeof user === "string") return user;
  if (typeof user === "number" || typeof user === "bigint") return String(user);
  if (typeof user === "object" && user !== null) {
    const id = (user as { id?: unknown }).id;
    if (typeof id === "string" || typeof id === "number") return String(id);
  }
  return undefined;
}

/**
 * Awaits an application callback, bounded; the error never carries the callback's message. A
 * callback that answers synchronously (the common case, e.g. a JWT check) costs no timer: only a
 * returned thenable is raced against the bound (this runs for every request, long-polls included).
 */
export async function bounded<T>(what: string, run: () => T | PromiseLike<T>): Promise<T> {
  const value = run();
  if (typeof (value as PromiseLike<T> | null)?.then !== "function") return value as T;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ThroughlineError("TL_INTERNAL", `${what} did not settle within ${AUTH_CALLBACK_TIMEOUT_MS} ms.`)), AUTH_CALLBACK_TIMEOUT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([value, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const unauthorized = (why = "authentication required or invalid") =>
  httpError("TL_UNAUTHORIZED", `${why}: send valid credentials (Authorization: Bearer …, or a fresh ticket).`);

/**
 * Turns what `authenticate` returned into a principal.
 * @throws ThroughlineError TL_UNAUTHORIZED (no user, or already expired), TL_INTERNAL (bad expiresAt)
 */
export function toPrincipal(value: unknown, now: number): Principal {
  if (value === null || value === undefined || value === false) throw unauthorized();
  let user: unknown = value;
  let expiresAt: number | undefined;
  if (typeof value === "object" && Object.prototype.hasOwnProperty.call(value, "user")) {
    const r = value as AuthResult;
    user = r.user;
    expiresAt = r.expiresAt;
    if (user === null || user === undefined || user === false) throw unauthorized();
    if (expiresAt !== undefined && (typeof expiresAt !== "number" || Number.isNaN(expiresAt))) {
      throw httpError("TL_INTERNAL", "authenticate returned an expiresAt that is not a number (ms since the epoch).");
    }
  }
  if (expiresAt !== undefined && expiresAt <= now) throw unauthorized("the credentials have expired");
  return Object.freeze({ user, key: userKey(user), expiresAt });
}
