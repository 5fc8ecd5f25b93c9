/**
 * The Node runtime of the doctor: `ws` as the WebSocket, instrumented to report the upgrade's
 * answer (status and headers of a refusal, which browsers never reveal), and `runDoctor` with it.
 */
import type { IncomingMessage, ClientRequest } from "node:http";
import WebSocket from "ws";
import { MARKER_HEADER, MARKER_VALUE } from "@throughline/wire";
import type { WebSocketConstructor } from "@throughline/client";
import { pickHeaders, type UpgradeLog } from "./observe.js";
import { runDoctor, type DoctorOptions } from "./run.js";
import type { DoctorReport } from "./report.js";

/** A `ws` constructor that writes the upgrade's answer into `log`. */
export function nodeWebSocket(log: UpgradeLog): WebSocketConstructor {
  const seen = (res: IncomingMessage) => ({
    status: res.statusCode,
    byServer: res.headers[MARKER_HEADER] === MARKER_VALUE,
    headers: pickHeaders((n) => res.headers[n]),
  });
  return class extends WebSocket {
    constructor(url: string) {
      super(url);
      this.on("upgrade", (res: IncomingMessage) => {
        log.upgrade = { result: "accepted", ...seen(res) };
      });
      // With a listener, ws leaves the refused request to us: note the answer, then fail it the
      // way ws would have (an error, then close 1006).
      this.on("unexpected-response", (req: ClientRequest, res: IncomingMessage) => {
        log.upgrade = { result: "refused", ...seen(res) };
        res.resume();
        req.destroy(new Error(`Unexpected server response: ${res.statusCode}`));
      });
    }
  } as unknown as WebSocketConstructor;
}

/** `runDoctor` with Node's fetch and `ws`. */
export function runNodeDoctor(options: Omit<DoctorOptions, "webSocket">): Promise<DoctorReport> {
  return runDoctor({ ...options, webSocket: nodeWebSocket, runtime: `node ${process.version}` });
}

export * from "./index.js";
