/**
 * The `SharedWorker` side of tab sharing: one `connect()` per endpoint for every tab connected to
 * the worker, for the union of their topics; each tab's port gets only its topics, in order,
 * once. Run it with `serveSharedWorker()` in the worker script (`dist/browser/share-worker.js`
 * does exactly that). Unlike a leader tab, a worker is never frozen with a background tab.
 */
import { DEV, ThroughlineError, type Message } from "@throughline/wire";
import { CONNECTING, type Channel, type ReadyState } from "../api.js";
import { connect } from "../connect.js";
import { createTabDelivery, isStale, unionTopics, type TabDelivery } from "./delivery.js";
import type { TabToWorker, WorkerConnectOptions, WorkerToTab } from "./worker-protocol.js";

/** How long the worker waits for a tab to answer a token request. */
const TOKEN_TIMEOUT_MS = 10_000;

interface Member {
  readonly port: MessagePort;
  readonly topics: readonly string[];
  readonly delivery: TabDelivery;
}

interface Group {
  readonly url: string;
  readonly options: WorkerConnectOptions;
  readonly token: boolean;
  readonly members: Map<MessagePort, Member>;
  ch: Channel | null;
  topics: string;
  cursor: string | null;
  state: ReadyState;
}

/** The part of a SharedWorker's global scope used here. */
export interface SharedWorkerScope {
  onconnect: ((e: MessageEvent) => void) | null;
}

export function serveSharedWorker(scope: SharedWorkerScope = globalThis as unknown as SharedWorkerScope): void {
  const groups = new Map<string, Group>();
  const byPort = new Map<MessagePort, Group>();
  let tokenSeq = 0;
  const tokenWaiters = new Map<number, { resolve: (v: string) => void; reject: (e: Error) => void }>();

  /** Posts to a tab; a port whose tab is gone (a crashed renderer) can throw: the tab leaves. */
  const post = (port: MessagePort, m: WorkerToTab) => {
    try {
      port.postMessage(m);
    } catch {
      leave(port);
    }
  };

  const leave = (port: MessagePort) => {
    const g = byPort.get(port);
    byPort.delete(port);
    port.close();
    if (!g) return;
    g.members.delete(port);
    if (g.members.size > 0) return;
    g.ch?.close();
    for (const [key, v] of groups) if (v === g) groups.delete(key);
  };

  /** Asks every tab of the group for a token; the first answer wins (a closed tab never answers). */
  const askToken = (g: Group): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      const req = ++tokenSeq;
      const timer = setTimeout(() => {
        tokenWaiters.delete(req);
        reject(new ThroughlineError("TL_UNAUTHORIZED", DEV ? "no tab answered the shared worker's token request." : "token"));
      }, TOKEN_TIMEOUT_MS);
      tokenWaiters.set(req, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      for (const port of g.members.keys()) post(port, { k: "token?", req });
    });

  const open = (g: Group) => {
    const union = unionTopics([...g.members.values()].map((m) => m.topics));
    const old = g.ch;
    g.topics = union.join(",");
    const ch = connect(g.url, {
      ...g.options,
      topics: union,
      ...(g.cursor ? { cursor: g.cursor } : {}),
      ...(g.token ? { token: () => askToken(g) } : {}),
    });
    g.ch = ch;
    ch.on("*", (m: Message) => {
      if (g.ch !== ch) return;
      if (!isStale(m.id, g.cursor)) g.cursor = m.id;
      for (const member of g.members.values()) {
        const d = member.delivery.message(m);
        if (d) post(member.port, { k: "msg", m: d });
      }
    });
    ch.on("gap", (gap) => {
      if (g.ch !== ch) return;
      for (const member of g.members.values()) if (member.delivery.gap(gap)) post(member.port, { k: "gap", g: gap });
    });
    ch.on("state", (state: ReadyState) => {
      if (g.ch !== ch) return;
      g.state = state;
      for (const port of g.members.keys()) post(port, { k: "state", state });
    });
    old?.close();
  };

  const onMessage = (port: MessagePort, m: TabToWorker) => {
    switch (m.k) {
      case "join": {
        let g = groups.get(m.key);
        if (!g) {
          g = { url: m.url, options: m.options, token: m.token, members: new Map(), ch: null, topics: "", cursor: m.cursor ?? m.options.cursor ?? null, state: CONNECTING };
          groups.set(m.key, g);
        }
        const cursor = m.cursor ?? g.cursor;
        g.members.set(port, { port, topics: m.topics, delivery: createTabDelivery(m.topics, cursor) });
        byPort.set(port, g);
        post(port, { k: "state", state: g.state });
        const have = g.topics.split(",");
        // A tab rejoining (its worker died) may have seen less than the first to rejoin: the
        // stream goes back to the older cursor; the other tabs drop the overlap.
        const behind = cursor !== null && g.cursor !== null && cursor !== g.cursor && isStale(cursor, g.cursor);
        if (behind) g.cursor = cursor;
        if (!g.ch || behind || !(have.includes("*") || m.topics.every((t) => have.includes(t)))) open(g);
        return;
      }
      case "ping": {
        post(port, { k: "pong" });
        return;
      }
      case "send": {
        const g = byPort.get(port);
        if (!g?.ch) return post(port, { k: "sent", req: m.req, error: { code: "TL_SEND_FAILED", message: "not joined" } });
        g.ch.send(m.data).then(
          () => post(port, { k: "sent", req: m.req }),
          (e: ThroughlineError) => post(port, { k: "sent", req: m.req, error: { code: e.code, message: e.message } }),
        );
        return;
      }
      case "token": {
        const w = tokenWaiters.get(m.req);
        if (!w) return;
        tokenWaiters.delete(m.req);
        if (m.value !== undefined) w.resolve(m.value);
        else w.reject(new ThroughlineError("TL_UNAUTHORIZED", DEV ? `a tab's token function failed: ${m.error ?? "unknown"}` : `token: ${m.error ?? ""}`));
        return;
      }
      case "leave":
        return leave(port);
    }
  };

  scope.onconnect = (e: MessageEvent) => {
    const port = e.ports[0];
    if (!port) return;
    port.onmessage = (ev: MessageEvent<TabToWorker>) => onMessage(port, ev.data);
    port.start();
  };
}
