/** Stream entries ↔ messages, and the replies of the history scripts. */
import type { BackplaneMessage, BackplanePosition } from "./contract.js";

/** A stream entry as Redis returns it (RESP2): [id, [field, value, …]]. */
export type StreamEntry = [id: string, fields: string[]];

/** Parses an entry of the history log; `undefined` for one this package did not write. */
export function toMessage(entry: StreamEntry): BackplaneMessage | undefined {
  const [id, fields] = entry;
  const seq = Number.parseInt(id, 10);
  let epoch: string | undefined;
  let topic: string | undefined;
  let event: string | undefined;
  let data: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1]!;
    switch (fields[i]) {
      case "p":
        epoch = value;
        break;
      case "t":
        topic = value;
        break;
      case "e":
        event = value;
        break;
      case "d":
        data = value;
        break;
    }
  }
  if (!Number.isSafeInteger(seq) || epoch === undefined || topic === undefined || event === undefined || data === undefined) return undefined;
  return { epoch, seq, topic, event, data };
}

/** `{epoch, seq, changed}` of HEAD_LUA / APPEND_LUA. */
export function toHead(reply: unknown): { position: BackplanePosition; changed: boolean } {
  const [epoch, seq, changed] = reply as [string, number, number];
  return { position: { epoch, seq: Number(seq) }, changed: Number(changed) === 1 };
}
