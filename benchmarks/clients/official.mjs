/**
 * Subscribers through each system's own client library: Throughline's `connect()` (from
 * `@throughline/client/node`) and `socket.io-client`. Used for time to first message (what an
 * application gets) and, with `--client official`, for load.
 */

/**
 * @param {"throughline" | "socketio"} lib
 * @param {string} url Throughline base URL (…/realtime) or Socket.IO origin
 * @param {string} transport Throughline: sse | websocket | long-poll; Socket.IO: websocket | polling
 * @param {(obj: any) => void} deliverData
 * @param {() => void} onClose
 * @returns {Promise<{ close(): void }>} once open
 */
export async function openOfficial(lib, url, transport, deliverData, onClose) {
  if (lib === "throughline") {
    const { connect } = await import("@throughline/client/node");
    const ch = connect(url, { topics: ["bench"], transports: [transport] });
    ch.on("*", (m) => deliverData(m && typeof m === "object" && "data" in m ? m.data : m));
    await new Promise((resolve, reject) => {
      ch.on("open", resolve);
      ch.on("error", (err) => reject(err));
    });
    ch.on("close", onClose);
    return { close: () => ch.close() };
  }
  const { io } = await import("socket.io-client");
  const socket = io(url, { transports: [transport], forceNew: true, reconnection: false });
  socket.on("m", deliverData);
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  socket.on("disconnect", onClose);
  return { close: () => socket.close() };
}
