/**
 * The systems under test. Each names its server process (`servers/<server>.mjs`), the load
 * client kind that subscribes to it (`clients/load.mjs`), how to turn the server's base URL into
 * that client's URL, and the limit it is compared with (raw `ws` for WebSocket, the raw SSE
 * writer for SSE). `official` is the kind used with `--client official`, `ttfm` the library
 * and transport time to first message uses (only systems with a client library of their own).
 */

const toWs = (u) => u.replace(/^http/, "ws");

export const SYSTEMS = Object.freeze([
  {
    id: "throughline-sse",
    label: "Throughline SSE",
    family: "sse",
    server: "throughline",
    client: "sse",
    url: (u) => `${u}/sse?topics=bench`,
    official: { kind: "official-throughline-sse", url: (u) => u },
    ttfm: { lib: "throughline", transport: "sse" },
    limit: "raw-sse",
    throughline: true,
  },
  {
    id: "throughline-ws",
    label: "Throughline WebSocket",
    family: "ws",
    server: "throughline",
    client: "ws-throughline",
    url: (u) => `${toWs(u)}/ws?topics=bench`,
    official: { kind: "official-throughline-websocket", url: (u) => u },
    ttfm: { lib: "throughline", transport: "websocket" },
    limit: "raw-ws",
    throughline: true,
  },
  {
    id: "throughline-poll",
    label: "Throughline long-poll",
    family: "poll",
    server: "throughline",
    client: "poll-throughline",
    url: (u) => `${u}/poll?topics=bench`,
    official: { kind: "official-throughline-long-poll", url: (u) => u },
    ttfm: { lib: "throughline", transport: "long-poll" },
    throughline: true,
  },
  { id: "raw-ws", label: "raw ws (limit)", family: "ws", server: "raw-ws", client: "ws-raw", url: (u) => u },
  { id: "raw-sse", label: "raw SSE writer (limit)", family: "sse", server: "raw-sse", client: "sse", url: (u) => u },
  {
    id: "socketio-ws",
    label: "Socket.IO websocket",
    family: "ws",
    server: "socketio",
    client: "ws-socketio",
    url: (u) => `${toWs(u)}/socket.io/?EIO=4&transport=websocket`,
    official: { kind: "official-socketio-websocket", url: (u) => u },
    ttfm: { lib: "socketio", transport: "websocket" },
  },
  {
    id: "socketio-polling",
    label: "Socket.IO polling",
    family: "poll",
    server: "socketio",
    // No raw Engine.IO polling client: socket.io-client is the load client here in both modes.
    client: "official-socketio-polling",
    url: (u) => u,
    official: { kind: "official-socketio-polling", url: (u) => u },
    ttfm: { lib: "socketio", transport: "polling" },
  },
  { id: "better-sse", label: "better-sse", family: "sse", server: "better-sse", client: "sse", url: (u) => u },
]);

export const SYSTEM_IDS = Object.freeze(SYSTEMS.map((s) => s.id));

export function systemById(id) {
  return SYSTEMS.find((s) => s.id === id);
}

/** The load client kind and URL for a system in `raw` (default) or `official` client mode. */
export function clientFor(system, baseUrl, mode) {
  if (mode === "official" && system.official) return { kind: system.official.kind, url: system.official.url(baseUrl) };
  return { kind: system.client, url: system.url(baseUrl) };
}
