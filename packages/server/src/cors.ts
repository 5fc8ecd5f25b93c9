/**
 * Cross-origin rules: the `cors` option's allowlist, the CORS response headers, and the origin
 * check of WebSocket upgrades (browsers do not apply CORS to WebSockets, so without a server-side
 * check any site could open a socket that carries the user's cookies: cross-site WebSocket
 * hijacking).
 */
import type { Inbound } from "./exchange.js";
import { MARKER_HEADER } from "@throughline/wire";
import { int, invalid as invalidOption } from "./validate.js";

/** Which origins may call the server from a browser page on another origin. */
export interface CorsOptions {
  /**
   * Allowed origins: exact strings (`"https://app.example.com"`, compared case-insensitively),
   * RegExps tested against the origin, or a predicate. `"*"` is not accepted: list origins.
   * @default (required)
   */
  origins: ReadonlyArray<string | RegExp> | ((origin: string) => boolean);
  /** Send `Access-Control-Allow-Credentials: true` (cookies, HTTP auth) to allowed origins. @default false */
  credentials?: boolean;
  /** How long browsers may cache a preflight answer. @default 600 */
  maxAgeSeconds?: number;
}

/** Defaults of the `cors` option's optional fields. */
export const DEFAULT_CORS_OPTIONS = Object.freeze({ credentials: false, maxAgeSeconds: 600 });

/** The `cors` option after validation. */
export interface ResolvedCors {
  readonly allows: (origin: string) => boolean;
  readonly credentials: boolean;
  readonly maxAgeSeconds: number;
}

/** Request headers a Throughline client sends cross-origin (answered in preflights). */
const ALLOWED_HEADERS = "authorization, content-type, last-event-id";
/** A comma list of HTTP header names (RFC 9110 tokens). */
const HEADER_LIST_RE = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(?:\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;

const invalid = (why: string) => invalidOption("cors", why);

/** Validates the `cors` option. @throws ThroughlineError TL_INVALID_OPTION */
export function resolveCors(value: unknown): ResolvedCors | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null) throw invalid("must be an object like { origins: [\"https://app.example.com\"] }");
  const o = value as CorsOptions;
  const credentials = o.credentials ?? DEFAULT_CORS_OPTIONS.credentials;
  if (typeof credentials !== "boolean") throw invalid("`credentials` must be a boolean");
  const maxAgeSeconds = int("cors.maxAgeSeconds", o.maxAgeSeconds, DEFAULT_CORS_OPTIONS.maxAgeSeconds, 0, 86_400);
  const origins = o.origins;
  let allows: (origin: string) => boolean;
  if (typeof origins === "function") {
    allows = (origin) => {
      try {
        return origins(origin) === true;
      } catch {
        return false; // a throwing predicate refuses: fail closed
      }
    };
  } else if (Array.isArray(origins)) {
    const exact = new Set<string>();
    const patterns: RegExp[] = [];
    for (const entry of origins) {
      if (entry instanceof RegExp) patterns.push(entry);
      else if (typeof entry === "string" && entry !== "*" && entry !== "") exact.add(entry.toLowerCase().replace(/\/+$/, ""));
      else throw invalid(`\`origins\` entries must be origins like "https://app.example.com" or RegExps (got ${JSON.stringify(String(entry)).slice(0, 40)}; "*" is refused on purpose)`);
    }
    allows = (origin) => {
      if (exact.has(origin.toLowerCase())) return true;
      // lastIndex is reset so a /g or /y RegExp cannot alternate between true and false.
      return patterns.some((re) => {
        re.lastIndex = 0;
        return re.test(origin);
      });
    };
  } else {
    throw invalid("`origins` must be an array of strings/RegExps or a function");
  }
  return Object.freeze({ allows, credentials, maxAgeSeconds });
}

/** The request's `Origin` header, if it has exactly one. */
export function originOf(req: Pick<Inbound, "method" | "headers" | "remoteAddress">): string | undefined {
  const o = req.headers.origin;
  return typeof o === "string" && o !== "" ? o : undefined;
}

/**
 * Whether `origin` names the host the request was sent to (`Host`, or `X-Forwarded-Host` with
 * `trustProxy`). Scheme is ignored: behind a TLS-terminating proxy the server cannot know it.
 */
export function isSameOrigin(req: Pick<Inbound, "method" | "headers" | "remoteAddress">, origin: string, trustProxy: boolean): boolean {
  let host: string;
  try {
    host = new URL(origin).host.toLowerCase();
  } catch {
    return false; // "null" and garbage are never same-origin
  }
  // HTTP/2 names the host in the `:authority` pseudo-header instead of `Host`.
  const authority = req.headers[":authority"];
  const candidates = [req.headers.host, typeof authority === "string" ? authority : undefined];
  if (trustProxy) {
    const fwd = req.headers["x-forwarded-host"];
    candidates.push(typeof fwd === "string" ? fwd.split(",")[0]?.trim() : undefined);
  }
  return candidates.some((h) => typeof h === "string" && h.toLowerCase() === host);
}

/**
 * Whether a request with this `Origin` may use the server: no `Origin` (not a browser page, or a
 * same-origin GET), a same-origin page, or an allowlisted one.
 */
export function originAllowed(req: Pick<Inbound, "method" | "headers" | "remoteAddress">, cors: ResolvedCors | undefined, trustProxy: boolean): boolean {
  const origin = originOf(req);
  if (origin === undefined) return true;
  if (isSameOrigin(req, origin, trustProxy)) return true;
  return cors !== undefined && cors.allows(origin);
}

/**
 * CORS headers for an allowed cross-origin request (empty for same-origin or refused ones).
 * The origin is echoed (never `*`), so credentials can be allowed for exactly that origin.
 */
export function corsHeaders(req: Pick<Inbound, "method" | "headers" | "remoteAddress">, cors: ResolvedCors | undefined, allow: string): Record<string, string> {
  if (!cors) return {};
  const origin = originOf(req);
  const headers: Record<string, string> = { vary: "Origin" };
  if (origin === undefined || !cors.allows(origin)) return headers;
  headers["access-control-allow-origin"] = origin;
  headers["access-control-expose-headers"] = `${MARKER_HEADER}, retry-after`;
  if (cors.credentials) headers["access-control-allow-credentials"] = "true";
  if (req.method === "OPTIONS") {
    headers["access-control-allow-methods"] = allow;
    // The page's own extra headers (the client's `headers` option) are echoed when well-formed.
    const requested = req.headers["access-control-request-headers"];
    headers["access-control-allow-headers"] = typeof requested === "string" && requested.length <= 1024 && HEADER_LIST_RE.test(requested) ? requested : ALLOWED_HEADERS;
    headers["access-control-max-age"] = String(cors.maxAgeSeconds);
  }
  return headers;
}
