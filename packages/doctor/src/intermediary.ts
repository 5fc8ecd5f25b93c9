/**
 * Recognises the intermediary in front of the server from the headers it leaves: `Server`,
 * `Via`, `CF-Ray`, `X-Powered-By`. The Throughline server itself sends none of these, so any of
 * them came from something on the way (or from the application's own framework).
 */
import type { Intermediary, TransportReport } from "./report.js";

const RULES: readonly { readonly name: Intermediary["name"]; readonly header: string; readonly test: RegExp }[] = [
  { name: "cloudflare", header: "cf-ray", test: /./ },
  { name: "cloudflare", header: "server", test: /cloudflare/i },
  { name: "iis", header: "server", test: /Microsoft-IIS/i },
  { name: "iis", header: "x-powered-by", test: /\bARR\b/i },
  { name: "nginx", header: "server", test: /nginx|openresty/i },
  { name: "apache", header: "server", test: /Apache|httpd/i },
];

const title = (h: string) => h.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());

/** The first intermediary recognised on any transport's answer; a `Via` header alone is a generic proxy. */
export function recognise(reports: readonly TransportReport[]): Intermediary | undefined {
  const all = reports.map((r) => r.headers);
  for (const rule of RULES) {
    for (const h of all) {
      const v = h[rule.header];
      if (v !== undefined && rule.test.test(v)) return { name: rule.name, evidence: `${title(rule.header)}: ${v}` };
    }
  }
  for (const h of all) {
    if (h.via) return { name: "proxy", evidence: `Via: ${h.via}` };
    if (h.server) return { name: "proxy", evidence: `Server: ${h.server}` };
  }
  return undefined;
}
