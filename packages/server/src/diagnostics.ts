/**
 * Two routes for diagnosing networks:
 * - `POST P/diagnostics?session=S`: a client's attempt diagnostics (opt-in on the client,
 *   `reportDiagnostics`), counted by `Stats`, so operators see why users end up where they are.
 * - `GET P/doctor`: the doctor page (opt-in: `doctorPage`, from `@throughline/doctor/page`),
 *   which runs the doctor's checks in the user's browser, where the problem actually is.
 */
import { QUERY, TRANSPORTS, httpError, isSessionId, type TransportName } from "@throughline/wire";
import { BASE_HEADERS, sendEmpty } from "./http.js";
import type { Registry } from "./registry.js";
import type { Route } from "./router.js";
import type { Security } from "./security.js";
import type { ReportedAttempt, Stats } from "./stats.js";
import { invalid } from "./validate.js";

/** Route of the client's diagnostics report. */
export const DIAGNOSTICS_ROUTE = "/diagnostics";
/** Route of the doctor page. */
export const DOCTOR_ROUTE = "/doctor";
/** Largest report body; a report is a few hundred bytes. */
export const MAX_REPORT_BYTES = 16_384;
/** Attempts read from one report. */
export const MAX_REPORT_ATTEMPTS = 20;

/** The doctor page as served: HTML and its Content-Security-Policy (hashes of its inline script). */
export interface DoctorPage {
  readonly html: string;
  readonly csp: string;
}

/** `doctorPage` option: builds the page once, on the first request. */
export type DoctorPageSource = () => DoctorPage | Promise<DoctorPage>;

const isTransport = (t: unknown): t is TransportName => typeof t === "string" && (TRANSPORTS as readonly string[]).includes(t);

/** Parses a report body; anything malformed is 400 TL_BAD_REQUEST. */
export function parseReport(text: string): { attempts: ReportedAttempt[]; transport: TransportName | undefined } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw httpError("TL_BAD_REQUEST", "the diagnostics report is not JSON.");
  }
  const b = body as { attempts?: unknown; transport?: unknown } | null;
  if (!b || typeof b !== "object" || !Array.isArray(b.attempts)) throw httpError("TL_BAD_REQUEST", "the diagnostics report needs an `attempts` array.");
  const attempts: ReportedAttempt[] = [];
  for (const a of b.attempts.slice(0, MAX_REPORT_ATTEMPTS) as { transport?: unknown; outcome?: unknown; reason?: unknown }[]) {
    if (!a || !isTransport(a.transport) || typeof a.outcome !== "string" || !/^[a-z-]{1,20}$/.test(a.outcome)) {
      throw httpError("TL_BAD_REQUEST", "each attempt needs a known `transport` and an `outcome`.");
    }
    attempts.push({ transport: a.transport, outcome: a.outcome, reason: typeof a.reason === "string" ? a.reason.slice(0, 300) : undefined });
  }
  return { attempts, transport: isTransport(b.transport) ? b.transport : undefined };
}

/** `POST P/diagnostics`: authenticated like a send, for a live session only. */
export function diagnosticsRoute(registry: Registry, security: Security, stats: Stats): Route {
  return {
    method: "POST",
    async handle(ex, query) {
      await security.admit(ex, "send", query);
      const text = await ex.readBody(MAX_REPORT_BYTES);
      const id = query.get(QUERY.session) ?? "";
      if (!isSessionId(id) || !registry.sessions.has(id)) throw httpError("TL_UNKNOWN_SESSION", "diagnostics are reported by a live session.");
      const { attempts, transport } = parseReport(text);
      const via = ex.headers.via;
      stats.report(attempts, transport, typeof via === "string" ? via : undefined);
      sendEmpty(ex, 204);
    },
  };
}

/** Validates the `doctorPage` option. @throws ThroughlineError TL_INVALID_OPTION */
export function checkDoctorPage(v: unknown): DoctorPageSource | undefined {
  if (v !== undefined && typeof v !== "function") throw invalid("doctorPage", "must be a function returning { html, csp } (see @throughline/doctor/page)");
  return v as DoctorPageSource | undefined;
}

/** `GET P/doctor`: the page, with its own CSP instead of the API's `default-src 'none'`. */
export function doctorRoute(source: DoctorPageSource): Route {
  let page: Promise<DoctorPage> | undefined;
  return {
    method: "GET",
    async handle(ex) {
      const p = await (page ??= Promise.resolve(source()));
      ex.respond(200, { ...BASE_HEADERS, "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "content-security-policy": p.csp }, p.html);
    },
  };
}
