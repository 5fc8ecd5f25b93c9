/**
 * Concrete fixes per recognised intermediary and problem: the settings that stop buffering, let
 * WebSocket upgrades through and raise idle timeouts. Each says where it goes.
 */
import type { Fix, Intermediary, Problem } from "./report.js";

type Table = Partial<Record<Problem, readonly string[]>>;

const NGINX: Table = {
  buffering: [
    "proxy_buffering off;   # or keep it on and drop `proxy_ignore_headers X-Accel-Buffering` (the server sends X-Accel-Buffering: no)",
    "proxy_http_version 1.1;",
    "proxy_cache off;",
  ],
  compression: ["gzip off;   # in the Throughline location (or remove text/event-stream from gzip_types)"],
  websocket: ["proxy_http_version 1.1;", "proxy_set_header Upgrade $http_upgrade;", 'proxy_set_header Connection "upgrade";'],
  cut: ["proxy_read_timeout 1h;", "proxy_send_timeout 1h;"],
  blocked: ["check `location` rules and auth_request/deny for the Throughline path (the refusal came from nginx, not the server)"],
};

const APACHE: Table = {
  buffering: ['ProxyPass "/realtime" "http://backend/realtime" flushpackets=on', "SetEnv proxy-sendchunked 1"],
  compression: ['SetEnvIf Request_URI "^/realtime" no-gzip   # mod_deflate must not touch the stream'],
  websocket: ['ProxyPass "/realtime" "http://backend/realtime" upgrade=websocket   # httpd ≥ 2.4.47; older: mod_proxy_wstunnel with ws://'],
  cut: ['ProxyTimeout 3600   # or timeout=3600 on the ProxyPass line'],
  blocked: ["check <Location> access rules and mod_security for the Throughline path"],
};

const CLOUDFLARE: Table = {
  buffering: ["a Cache Rule that bypasses the cache for the Throughline path (a cached or buffered response never streams)"],
  compression: ["a Compression Rule that disables compression for text/event-stream on the Throughline path"],
  websocket: ["Network → WebSockets: on"],
  cut: ["Cloudflare cuts connections idle for 100 s (Enterprise can raise it): keep the server's heartbeatMs well below (the default 15 s is)"],
  blocked: ["check WAF / Bot Fight rules: they may challenge long-lived or non-browser requests on the Throughline path"],
};

const IIS: Table = {
  buffering: ['<proxy responseBufferLimit="0" />   # ARR: system.webServer/proxy in applicationHost.config'],
  compression: ['<urlCompression doDynamicCompression="false" />   # in the Throughline path\'s web.config'],
  websocket: ["Install-WindowsFeature Web-WebSockets", '<webSocket enabled="true" />   # system.webServer'],
  cut: ['<proxy timeout="01:00:00" />   # ARR proxy timeout'],
  blocked: ["check URL Rewrite / Request Filtering rules for the Throughline path"],
};

const PROXY: Table = {
  buffering: ["ask the proxy's owners to exempt the Throughline path from response buffering and content scanning"],
  compression: ["ask the proxy's owners not to compress text/event-stream (the server sends Cache-Control: no-transform)"],
  websocket: ["ask the proxy's owners to allow WebSocket upgrades (Upgrade: websocket) to the Throughline path"],
  cut: ["ask the proxy's owners to raise the idle/maximum connection time for the Throughline path"],
  blocked: ["ask the proxy's owners to allow text/event-stream and long-lived responses on the Throughline path"],
};

const TABLES: Record<Intermediary["name"], { readonly where: string; readonly table: Table }> = {
  nginx: { where: "nginx (location of the Throughline path)", table: NGINX },
  apache: { where: "Apache httpd (mod_proxy)", table: APACHE },
  cloudflare: { where: "Cloudflare dashboard", table: CLOUDFLARE },
  iis: { where: "IIS / ARR", table: IIS },
  proxy: { where: "the proxy on the way", table: PROXY },
};

/**
 * Fixes for `problems`, for the recognised intermediary (or a generic proxy), plus what the
 * Throughline server can do itself (`cutIdleMs`: the shortest idle cut seen).
 */
export function fixesFor(problems: readonly Problem[], who: Intermediary | undefined, cutIdleMs?: number): Fix[] {
  const { where, table } = TABLES[who?.name ?? "proxy"];
  const out: Fix[] = [];
  for (const problem of problems) {
    // One setting can fix two problems (nginx's proxy_http_version): list it once.
    for (const text of table[problem] ?? []) if (!out.some((f) => f.text === text)) out.push({ problem, where, text });
  }
  if (problems.includes("cut") && cutIdleMs !== undefined) {
    out.push({ problem: "cut", where: "Throughline server", text: `heartbeatMs below ${Math.max(1_000, Math.floor(cutIdleMs / 2))} (traffic keeps an idle-cutting proxy from closing the stream)` });
  }
  return out;
}
