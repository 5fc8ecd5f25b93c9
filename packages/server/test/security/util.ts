/**
 * Helpers of the security tests: a WebSocket attempt that reports either the refusal status of
 * the upgrade or the frames and close of the socket, and a logger that records everything.
 */
import type { IncomingHttpHeaders } from "node:http";
import { WebSocket } from "ws";
import { decodeServerFrame, type ServerFrame } from "@throughline/wire";
import type { Logger } from "@throughline/server";
import { onCleanup, within } from "../helpers.js";

export interface WsAttempt {
  /** HTTP status of a refused upgrade (undefined when it upgraded). */
  readonly status?: number;
  readonly headers?: IncomingHttpHeaders;
  readonly body?: string;
  readonly frames: ServerFrame[];
  /** Resolves with the close once the socket closes (upgraded attempts only). */
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly ws: WebSocket;
}

/** Opens a WebSocket with raw headers; resolves once upgraded or refused. */
export function tryWs(url: string, headers: Record<string, string> = {}): Promise<WsAttempt> {
  const ws = new WebSocket(url.replace(/^http/, "ws"), { headers });
  onCleanup(() => ws.terminate());
  const frames: ServerFrame[] = [];
  ws.on("message", (d) => frames.push(decodeServerFrame(String(d))));
  ws.on("error", () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  return within(
    new Promise<WsAttempt>((resolve, reject) => {
      ws.once("open", () => resolve({ frames, closed, ws }));
      ws.once("unexpected-response", (_req, res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body, frames, closed, ws }));
        res.on("error", reject);
      });
      ws.once("error", reject);
    }),
    `WebSocket ${url}`,
  );
}

/** A logger that keeps every line as JSON text, to scan for secrets. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const record = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push(JSON.stringify({ level, message, fields }));
  return { lines, warn: record("warn"), error: record("error") };
}

/** Parses a marked JSON error answer. */
export function errorCode(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}
