/**
 * A raw Throughline long-poll subscriber: GET `…/poll`, then poll again at once with the session
 * and the newest cursor, forever. Keep-alive sockets, one per subscriber at a time.
 */
import { Agent, request } from "node:http";

const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 100_000 });

function get(url) {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.setEncoding("utf8");
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`poll status ${res.statusCode}`))));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * @param {string} url the poll route with `topics`
 * @param {(obj: {s: number, t: number}) => void} deliverData receives each message's data
 * @param {() => void} onClose
 */
export async function openPoll(url, deliverData, onClose) {
  let closed = false;
  let session;
  let cursor;
  const handle = (body) => {
    for (const f of JSON.parse(body)) {
      if (f.type === "message") {
        cursor = f.id;
        deliverData(f.data);
      } else if (f.type === "hello") {
        session = f.session;
        cursor = f.cursor;
      } else if (f.type === "gap") cursor = f.cursor;
      else if (f.type === "close") closed = true;
    }
  };
  handle(await get(url));
  const next = () => {
    const u = new URL(url);
    u.searchParams.set("session", session);
    if (cursor) u.searchParams.set("cursor", cursor);
    return u.toString();
  };
  (async () => {
    while (!closed) {
      try {
        handle(await get(next()));
      } catch {
        break;
      }
    }
    closed = true;
    onClose();
  })();
  return {
    close: () => {
      closed = true;
    },
  };
}
