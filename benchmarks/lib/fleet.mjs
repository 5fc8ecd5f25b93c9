/**
 * One system under test at a time: its server process and the load-client processes that hold
 * its subscribers. Grows the number of subscribers step by step, forwards the clients' progress
 * to the server as publishing credit, and takes counter snapshots for the scenarios.
 */
import { fileURLToPath } from "node:url";
import { Child } from "./proc.mjs";
import { clientFor } from "../systems.mjs";
import { sleep } from "./progress.mjs";

const here = (p) => fileURLToPath(new URL(`../${p}`, import.meta.url));

/** Subscribers per load-client process (also keeps each process well under the fd limit). */
export const PER_CLIENT_PROCESS = 2_500;

export class Fleet {
  /**
   * @param {object} system entry of SYSTEMS
   * @param {{ clientMode?: "raw" | "official", perProcess?: number,
   *   pin?: import("./pin.mjs").Pinning, serverArgs?: string[], name?: string,
   *   nofile?: number, localAddress?: (i: number) => string | undefined, serverProcesses?: number }} [options]
   *   `pin`: server on its core, clients on theirs (lib/pin.mjs); `serverArgs`: the server
   *   script's arguments (a cluster node's Redis URL); `name`: the server's name in errors;
   *   `nofile`: open-file limit of the server and client processes (default: inherited);
   *   `localAddress`: source address of client process i (default: the system's choice);
   *   `serverProcesses`: above 1, the server runs as a node:cluster of that many (servers/scale-cluster.mjs);
   *   `nodeArgs`: extra node flags for the server and the load clients (`--cpu-prof …`);
   *   `clientExecutable`: a native load client speaking clients/load.mjs's protocol instead of it
   *   (lib/native.mjs); `env`: variables for the server and client processes (BENCH_UNIX_SOCKET)
   */
  constructor(system, options = {}) {
    this.system = system;
    this.pin = options.pin;
    this.serverArgs = options.serverArgs ?? [];
    this.serverName = options.name ?? `${system.server} server`;
    this.clientMode = options.clientMode ?? "raw";
    this.perProcess = options.perProcess ?? PER_CLIENT_PROCESS;
    this.nofile = options.nofile;
    this.localAddress = options.localAddress ?? (() => undefined);
    this.serverProcesses = options.serverProcesses ?? 1;
    this.nodeArgs = options.nodeArgs ?? { server: [], clients: [] };
    this.clientExecutable = options.clientExecutable;
    this.env = options.env;
    this.clients = [];
    this.lastCredit = 0;
  }

  async start() {
    const clustered = this.serverProcesses > 1;
    this.server = new Child(here(`servers/${clustered ? "scale-cluster" : this.system.server}.mjs`), clustered ? [this.system.server, String(this.serverProcesses)] : this.serverArgs, {
      name: this.serverName,
      nodeArgs: ["--expose-gc", ...(this.nodeArgs.server ?? [])],
      pin: this.pin,
      role: "server",
      nofile: this.nofile,
      env: this.env,
    });
    const msg = await this.server.wait((m) => m.type === "listening" || m.type === "error", 20_000, "listening");
    if (msg.type === "error") throw new Error(msg.message);
    this.baseUrl = msg.url;
    this.client = clientFor(this.system, this.baseUrl, this.clientMode);
    return this;
  }

  /** Subscribers open across all client processes. */
  get open() {
    return this.clients.reduce((n, c) => n + c.open, 0);
  }

  /** Grows to `total` subscribers. @returns {{open:number, failed:number, error?:string}} */
  async grow(total, onStatus = () => {}) {
    let failed = 0;
    let error;
    let have = this.clients.reduce((n, c) => n + c.assigned, 0);
    while (have < total) {
      let c = this.clients.at(-1);
      if (!c || c.assigned >= this.perProcess) {
        c = await this.#spawnClient();
      }
      const count = Math.min(total - have, this.perProcess - c.assigned, 1_000);
      c.assigned += count;
      const ans = await c.child.request({ cmd: "connect", count, concurrency: 64 }, "connected", 30_000 + count * 30);
      c.open = ans.open;
      failed += count - (ans.open - c.lastOpen);
      c.lastOpen = ans.open;
      error ??= ans.error;
      have += count;
      onStatus(`${this.open}/${total} subscribers open`);
    }
    return { open: this.open, failed, error };
  }

  /**
   * Grows to `total` subscribers spread evenly over `processes` client processes, which connect
   * at the same time (scale: many connections, each process under its own port and fd limits).
   * @returns {{open:number, failed:number, error?:string}}
   */
  async growSpread(total, processes, onStatus = () => {}) {
    while (this.clients.length < processes) await this.#spawnClient();
    let failed = 0;
    let error;
    await Promise.all(
      this.clients.map(async (c, i) => {
        const share = Math.floor(total / processes) + (i < total % processes ? 1 : 0);
        while (c.assigned < share) {
          const count = Math.min(share - c.assigned, 1_000);
          c.assigned += count;
          // Generous: a connect whose SYN was dropped (an accept queue overflowing on a loaded
          // machine) is retried by the kernel after 1, 3, 7, 15… s. The caller bounds the whole.
          const ans = await c.child.request({ cmd: "connect", count, concurrency: 32 }, "connected", 120_000 + count * 60);
          c.open = ans.open;
          failed += count - (ans.open - c.lastOpen);
          c.lastOpen = ans.open;
          error ??= ans.error;
          onStatus(`${this.open}/${total} subscribers open`);
        }
      }),
    );
    return { open: this.open, failed, error };
  }

  async #spawnClient() {
    const i = this.clients.length;
    const c = { assigned: 0, open: 0, lastOpen: 0, delivered: 0, min: 0, child: null };
    const local = this.localAddress(i);
    c.child = new Child(this.clientExecutable ?? here("clients/load.mjs"), [this.client.kind, this.client.url, ...(local ? [local] : [])], {
      name: `${this.clientExecutable ? "native " : ""}load client ${i} (${this.client.kind})`,
      native: this.clientExecutable !== undefined,
      env: this.env,
      nodeArgs: this.nodeArgs.clients,
      pin: this.pin,
      role: "clients",
      nofile: this.nofile,
      onMessage: (m) => {
        if (m.type === "progress") {
          c.delivered = m.delivered;
          c.min = m.min;
          c.open = m.open;
          c.cpuUs = m.cpuUs;
          this.#credit();
        }
      },
    });
    await c.child.wait((m) => m.type === "ready", 20_000, "ready");
    this.clients.push(c);
    return c;
  }

  /** The newest seq every open subscriber has: the server may publish `window` beyond it. */
  minSeq() {
    let min = Infinity;
    for (const c of this.clients) if (c.open > 0 && c.min < min) min = c.min;
    return min === Infinity ? 0 : min;
  }

  #credit() {
    const min = this.minSeq();
    if (min > this.lastCredit) {
      this.lastCredit = min;
      this.server.send({ cmd: "credit", seq: min });
    }
  }

  /** CPU µs each client process has used (as of its last progress line). */
  clientCpu() {
    return this.clients.map((c) => c.cpuUs ?? 0);
  }

  delivered() {
    return this.clients.reduce((n, c) => n + c.delivered, 0);
  }

  /** Resets the clients' counters and starts their progress stream (`seqs`: per-seq latency too). */
  async track(latency, seqs = false) {
    for (const c of this.clients) {
      c.delivered = 0;
      c.child.send({ cmd: "track", latency, seqs, progressMs: 20 });
    }
    await sleep(60);
  }

  /** Stops the progress stream and collects each client's final counters. */
  async report() {
    return Promise.all(this.clients.map((c) => c.child.request({ cmd: "report" }, "report", 20_000)));
  }

  stats(gc = false) {
    return this.server.request({ cmd: "stats", gc }, "stats", 30_000);
  }

  /** Waits until every open subscriber has `seq` (bounded). @returns whether they all got there */
  async drain(seq, ms) {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (this.minSeq() >= seq) return true;
      await sleep(20);
    }
    return this.minSeq() >= seq;
  }

  async stop() {
    await Promise.all([...this.clients.map((c) => c.child.stop()), this.server?.stop()]);
    this.clients = [];
  }
}
