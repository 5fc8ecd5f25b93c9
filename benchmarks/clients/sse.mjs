/**
 * A raw SSE subscriber over node:http: no EventSource, no per-event objects. It splits the
 * stream on blank lines and hands each event block's text to `deliver`; the tracker only looks
 * for the payload's `"s":` and `"t":` in it. Used for every SSE-based system (raw writer,
 * better-sse, Throughline's SSE) so they are all read by the same, cheap client.
 */
import { request } from "node:http";

/**
 * @param {string} url
 * @param {(text: string) => void} deliver
 * @param {() => void} onClose
 * @param {string} [localAddress] source address (spreads many connections over several, see scenarios/scale.mjs)
 * @returns {Promise<{ close(): void }>} once the response headers arrived (status 200)
 */
export function openSse(url, deliver, onClose, localAddress) {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, localAddress, headers: { accept: "text/event-stream" } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`SSE status ${res.statusCode}`));
        return;
      }
      res.setEncoding("utf8");
      let buf = "";
      res.on("data", (chunk) => {
        buf = buf === "" ? chunk : buf + chunk;
        let start = 0;
        let end;
        while ((end = buf.indexOf("\n\n", start)) !== -1) {
          // Comments (`:` lines: padding, heartbeats) carry no payload; skip them cheaply.
          if (buf.charCodeAt(start) !== 58) deliver(buf.slice(start, end));
          start = end + 2;
        }
        if (start > 0) buf = buf.slice(start);
      });
      res.on("close", onClose);
      res.on("error", () => {});
      resolve({ close: () => req.destroy() });
    });
    req.on("error", (err) => {
      reject(err);
      onClose();
    });
    req.end();
  });
}
