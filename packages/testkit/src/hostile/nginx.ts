/**
 * A real nginx in front of a test server, with the configs people actually deploy. Each instance
 * lives in its own temp dir (config, pid, temp paths, logs) and runs in the foreground as one
 * process, so `close()` is a kill by pid and the dir's removal.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { ThroughlineError } from "@throughline/wire";
import { freePort } from "../ports.js";

/**
 * - `plain`: `proxy_pass` with nginx defaults (HTTP/1.0 upstream, buffering on, no Upgrade forwarding).
 * - `buffering`: plain plus `proxy_buffering on; proxy_ignore_headers X-Accel-Buffering;`: buffers
 *   even streams that send `X-Accel-Buffering: no`.
 * - `buffering-http11`: `proxy_http_version 1.1; proxy_buffering on; proxy_ignore_headers X-Accel-Buffering;`
 *   (nginx 1.22 measured: chunked responses still pass chunk by chunk).
 * - `tuned`: what the README recommends: HTTP/1.1, no buffering, Upgrade forwarded, 1 h read timeout.
 */
export type NginxConfig = "plain" | "buffering" | "buffering-http11" | "tuned";

/** The `location /` body of each config. */
export const NGINX_CONFIGS: Readonly<Record<NginxConfig, string>> = Object.freeze({
  plain: "proxy_pass http://upstream;",
  buffering: "proxy_pass http://upstream;\n      proxy_buffering on;\n      proxy_ignore_headers X-Accel-Buffering;",
  "buffering-http11":
    "proxy_pass http://upstream;\n      proxy_http_version 1.1;\n      proxy_buffering on;\n      proxy_ignore_headers X-Accel-Buffering;",
  tuned:
    'proxy_pass http://upstream;\n      proxy_http_version 1.1;\n      proxy_buffering off;\n      proxy_set_header Upgrade $http_upgrade;\n      proxy_set_header Connection "upgrade";\n      proxy_read_timeout 1h;',
});

export interface NginxOptions {
  /** Upstream, `http://127.0.0.1:PORT`. */
  readonly target: string;
  /**
   * More upstreams after `target`, balanced with nginx's default plain round-robin (no
   * `ip_hash`, no cookies: every request may land on another one). @default []
   */
  readonly moreTargets?: readonly string[];
  /**
   * Parameters of every upstream `server` line, e.g. `"max_fails=0"` (a node that failed is
   * never marked down: each request that finds it dead goes on to the next one). Letters, digits,
   * `=`, `_`, `.` and spaces only. @default "" (nginx's defaults: `max_fails=1 fail_timeout=10s`)
   */
  readonly serverParams?: string;
  /** Which deployment to imitate. @default "plain" */
  readonly config?: NginxConfig;
  /** Path of the nginx binary. @default /usr/sbin/nginx, else `nginx` on PATH */
  readonly binary?: string;
  /** How long to wait for nginx to accept connections. @default 10000 */
  readonly startTimeoutMs?: number;
}

export interface NginxProxy {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** The temp dir holding config and logs (removed by `close()`). */
  readonly dir: string;
  /** Kills nginx, awaits its exit and removes the dir. Idempotent. */
  close(): Promise<void>;
}

/** Defaults of `NginxOptions`. */
export const DEFAULT_NGINX_OPTIONS = Object.freeze({ config: "plain" as NginxConfig, startTimeoutMs: 10_000 });

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds nginx: /usr/sbin/nginx, then PATH. @throws ThroughlineError TL_INVALID_OPTION if missing. */
export function findNginx(binary?: string): string {
  const candidates = binary ? [binary] : ["/usr/sbin/nginx", ...(process.env.PATH ?? "").split(delimiter).filter(Boolean).map((d) => join(d, "nginx"))];
  const found = candidates.find(executable);
  if (found) return found;
  throw new ThroughlineError("TL_INVALID_OPTION", `nginx not found (${binary ? binary : "/usr/sbin/nginx or PATH"}): apt-get install nginx, or pass \`binary\`.`);
}

function configText(dir: string, port: number, upstream: string, config: NginxConfig): string {
  return `# written by @throughline/testkit startNginx (${config})
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream upstream { server ${upstream}; }
  server {
    listen 127.0.0.1:${port};
    location / {
      ${NGINX_CONFIGS[config]}
    }
  }
}
`;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => (s.destroy(), resolve(false)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

function logTail(dir: string): string {
  try {
    return readFileSync(join(dir, "error.log"), "utf8").trim().split("\n").slice(-5).join("\n");
  } catch {
    return "(no error log)";
  }
}

function parseUpstream(target: string): string {
  let url: URL | undefined;
  try {
    url = new URL(target);
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== "http:") {
    throw new ThroughlineError("TL_INVALID_OPTION", `startNginx target must be http://host:port (got ${JSON.stringify(target)}).`);
  }
  return `${url.hostname}:${url.port || "80"}`;
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // SIGTERM is nginx's fast shutdown; SIGKILL only if it does not exit in time.
  child.kill("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), 5_000)));
  const result = await Promise.race([exited(child), late]);
  clearTimeout(timer);
  if (result === "late") {
    child.kill("SIGKILL");
    await exited(child);
  }
}

async function launch(binary: string, upstream: string, config: NginxConfig, timeoutMs: number): Promise<NginxProxy | "port-taken"> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "throughline-nginx-"));
  const file = join(dir, "nginx.conf");
  writeFileSync(file, configText(dir, port, upstream, config));
  const child = spawn(binary, ["-p", `${dir}/`, "-c", file, "-e", join(dir, "error.log")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  let spawnError: Error | undefined;
  child.once("error", (err) => (spawnError = err));
  // If the test process dies without close(), do not leave nginx behind.
  const reap = (): void => void child.kill("SIGKILL");
  process.once("exit", reap);

  const cleanup = async (): Promise<void> => {
    process.off("exit", reap);
    await killAndWait(child);
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) {
      const log = `${stderr.trim()}\n${logTail(dir)}`.trim();
      await cleanup();
      if (/address already in use/i.test(log)) return "port-taken";
      throw new ThroughlineError("TL_CONNECT_FAILED", `nginx exited before accepting connections: ${spawnError?.message ?? log}`);
    }
    if (await accepts(port)) break;
    if (Date.now() > deadline) {
      const log = logTail(dir);
      await cleanup();
      throw new ThroughlineError("TL_CONNECT_TIMEOUT", `nginx did not accept connections within ${timeoutMs} ms: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    dir,
    close: () => (closing ??= cleanup()),
  };
}

/**
 * Starts nginx on a free loopback port in front of `target`.
 * @throws ThroughlineError TL_INVALID_OPTION (bad target or config, nginx missing),
 *   TL_CONNECT_FAILED (nginx exited: the message has its error log), TL_CONNECT_TIMEOUT.
 */
export async function startNginx(options: NginxOptions): Promise<NginxProxy> {
  const params = options.serverParams ?? "";
  if (!/^[A-Za-z0-9_=. ]*$/.test(params)) throw new ThroughlineError("TL_INVALID_OPTION", "serverParams: letters, digits, '=', '_', '.' and spaces only.");
  const upstream = [options.target, ...(options.moreTargets ?? [])].map((t) => `${parseUpstream(t)}${params ? ` ${params.trim()}` : ""}`).join("; server ");
  const config = options.config ?? DEFAULT_NGINX_OPTIONS.config;
  if (!Object.hasOwn(NGINX_CONFIGS, config)) {
    throw new ThroughlineError("TL_INVALID_OPTION", `unknown nginx config ${JSON.stringify(config)}; expected one of ${Object.keys(NGINX_CONFIGS).join(", ")}.`);
  }
  const binary = findNginx(options.binary);
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_NGINX_OPTIONS.startTimeoutMs;
  // The free port can be taken between our probe and nginx's bind: retry a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    const started = await launch(binary, upstream, config, timeoutMs);
    if (started !== "port-taken") return started;
  }
  throw new ThroughlineError("TL_CONNECT_FAILED", "nginx could not bind a free loopback port after 3 attempts.");
}
