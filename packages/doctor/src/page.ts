/**
 * The doctor page for the server's opt-in `doctorPage` option:
 *
 * ```ts
 * import { doctorPage } from "@throughline/doctor/page";
 * const rt = createServer({ doctorPage: doctorPage() }); // GET /realtime/doctor
 * ```
 *
 * One HTML document with the browser bundle inlined (built by `npm run build` into
 * `dist/browser/doctor.js`), served with a CSP that allows exactly that script and style by hash
 * and connections to the page's own origin only.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { ThroughlineError } from "@throughline/wire";

/** Where the build puts the page's script. */
export const DOCTOR_BUNDLE = new URL("../dist/browser/doctor.js", import.meta.url);

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1d2330}
h1{font-size:1.4rem}h2{font-size:1.05rem;margin:.2rem 0 .5rem}.muted{color:#667}
.card{border:1px solid #ccd;border-left:6px solid #889;border-radius:6px;padding:.6rem .9rem;margin:.6rem 0}
.card.ok{border-left-color:#1a7f37}.card.warn{border-left-color:#bf8700}.card.bad{border-left-color:#cf222e}
.row{display:flex;gap:.8rem}.label{min-width:6rem;color:#667}.value{overflow-wrap:anywhere}
.verdict{padding:.6rem .9rem;border-radius:6px;margin:1rem 0}.verdict.healthy{background:#dafbe1}.verdict.degraded{background:#fff8c5}.verdict.failing{background:#ffebe9}
pre{background:#f6f8fa;padding:.8rem;overflow:auto;font-size:12px}button{font:inherit;padding:.3rem .8rem}`;

const sha256 = (s: string) => `'sha256-${createHash("sha256").update(s).digest("base64")}'`;

/** Builds the page from a script (exported for tests and custom bundles). */
export function pageFrom(script: string): { html: string; csp: string } {
  // `</script` inside the bundle would end the element early.
  const safe = script.replace(/<\/script/gi, "<\\/script");
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Throughline doctor</title><style>${STYLE}</style></head>
<body data-state="loading">
<h1>Throughline doctor</h1>
<p class="muted">Checks, from this browser, how realtime traffic reaches <code id="target"></code>: each transport, what answered, whether something buffers or cuts the stream.</p>
<p id="progress" class="muted">starting…</p>
<div id="verdict"></div>
<div id="transports"></div>
<p><button id="copy" type="button">Copy report</button> <span id="copied" class="muted"></span></p>
<pre id="report"></pre>
<script>${safe}</script>
</body></html>
`;
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(safe)}`,
    `style-src ${sha256(STYLE)}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return { html, csp };
}

/**
 * The `doctorPage` option's value: reads the built bundle on first use.
 * @throws ThroughlineError TL_INVALID_OPTION (when called by the server) if the bundle is not built
 */
export function doctorPage(bundle: URL | string = DOCTOR_BUNDLE): () => Promise<{ html: string; csp: string }> {
  return async () => {
    let script: string;
    try {
      script = await readFile(bundle, "utf8");
    } catch (cause) {
      throw new ThroughlineError("TL_INVALID_OPTION", `the doctor page's script is missing (${String(bundle)}): run \`npm run build\`.`, { cause });
    }
    return pageFrom(script);
  };
}
