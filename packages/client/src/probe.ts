/**
 * One transport attempt that must *prove* the transport before the channel adopts it. Socket
 * open is not proof: the server's frames must arrive promptly and as separate deliveries.
 *
 * Each transport value carries its own proof rule (`Transport.proof`: SSE in transports/sse.ts,
 * WebSocket in websocket.ts, long-poll in long-poll.ts); this file runs it:
 *
 * - SSE: the hello (after the padding) and, `probeDelayMs` later, the server's probe must arrive
 *   in different network deliveries. A proxy holding the whole response, N bytes, or the first
 *   event until the second delivers them late (timeout) or together (merged).
 * - WebSocket: the hello, then a client probe answered by the server (a round trip).
 * - Long-poll: the first poll returns (with the hello).
 *
 * Frames that arrive before the channel adopts the link (hello, replay, live messages) are kept
 * and handed over on adoption, so nothing between proof and adoption is lost.
 */
import { DEV, ThroughlineError, closeCodeName, closeReconnects, type HelloFrame, type MessageFrame, type ServerFrame, type TransportName } from "@throughline/wire";
import type { AttemptOutcome, AttemptPurpose, AttemptRecord } from "./diagnostics.js";
import { abnormal, type ClientTransport, type CloseInfo, type Transport, type TransportContext, type TransportHandlers } from "./transport.js";

export interface ProofSettings {
  /** An attempt not proven within this many ms fails (`buffered` or `timeout`). */
  readonly timeoutMs: number;
  /** `false`: the hello is enough (one forced transport: nothing to fall back to). */
  readonly _requireProof: boolean;
  readonly purpose: AttemptPurpose;
  /**
   * Connecting: messages that arrive while the attempt is still being proven, passed on at once
   * (the channel drops what it already has by cursor). Stops at the first `gap` frame, whose
   * place in the stream only adoption can keep.
   */
  readonly _early?: ((f: MessageFrame) => void) | false | undefined;
  /** Told when the first hello arrives (the channel then knows the stream answers at all). */
  readonly hello?: (() => void) | false | undefined;
}

export type ProofResult =
  | { readonly ok: true; readonly hello: HelloFrame }
  | { readonly ok: false; readonly outcome: AttemptOutcome; readonly info: CloseInfo };

/** Where an adopted link's callbacks go. */
export type AdoptedHandlers = Pick<TransportHandlers, "frame" | "close">;

/** An attempt in progress. */
export interface Candidate {
  readonly name: TransportName;
  readonly link: ClientTransport;
  /** Settles once: proven, or failed with an outcome class. */
  readonly result: Promise<ProofResult>;
  /** Stops the attempt (another won, or the channel closed); no-op once adopted. */
  cancel(): void;
  /**
   * Hands the link over to `h`: first what arrived before (the frames, the hello first, then the
   * close if the link already ended after its proof), synchronously, then every later callback.
   */
  _adopt(h: AdoptedHandlers): void;
}

// The bundler's define read here (the same test as wire's `DEV`), not through `DEV`: a bundler folds this module's
// own condition while parsing it, before it decides which imports are used, so a production
// bundle made with only the define (an app's, `benchmarks/size.mjs`) drops `closeCodeName` and
// the close-code table. Through the imported `DEV` the call is folded only after that decision,
// and the table stayed (~140 B min+gzip).
declare const __THROUGHLINE_DEV__: boolean | undefined;

/** Error for a connection the server closed with a code (before proof, or one that ends the channel). */
export function closeError(code: number, reason: string): ThroughlineError {
  // The code's error code, and the reason (if any) spelled in each arm: no variables in a production bundle.
  return new ThroughlineError(
    (
      {
        1006: "TL_CONNECTION_LOST",
        1009: "TL_PAYLOAD_TOO_LARGE",
        1011: "TL_INTERNAL",
        4400: "TL_BAD_REQUEST",
        4401: "TL_UNAUTHORIZED",
        4403: "TL_FORBIDDEN",
        4429: "TL_RATE_LIMITED",
      } as Record<number, ThroughlineError["code"]>
    )[code] ?? "TL_CLOSED",
    typeof __THROUGHLINE_DEV__ === "undefined" || __THROUGHLINE_DEV__ !== false
      ? `the server closed the connection (${code} ${closeCodeName(code)}${reason && `: ${reason.slice(0, 200)}`}).`
      : code + (reason && `: ${reason.slice(0, 200)}`),
    { closeCode: code },
  );
}

/** Failure class of a link that ended before proof. */
export function classifyClose(info: CloseInfo): AttemptOutcome {
  // Marked 401/403 and non-reconnecting close codes are the application's decision. (4404, an
  // expired session, reconnects: the race starts a new session.)
  if (info.fatal || !closeReconnects(info.code)) return "rejected";
  return "blocked";
}

/** Opens `transport` and proves it by its rule (see the file comment). `onRecord` gets the attempt's diagnostics once. */
export function openCandidate(
  transport: Transport,
  ctx: TransportContext,
  settings: ProofSettings,
  onRecord: (r: AttemptRecord) => void,
): Candidate {
  const { clock } = ctx; // the transports' clock, so one clock times the link and its proof
  const { name, proof } = transport;
  const startedAt = clock.now();
  /** 0 proving, 1 proven, 2 adopted, 3 failed or cancelled (numbers: the browser bundle is smaller). */
  let phase: 0 | 1 | 2 | 3 = 0;
  let chunkNo = 0;
  let openedAt: number | undefined;
  let helloAt: number | undefined;
  let helloChunk: number | undefined;
  let probeChunk: number | undefined;
  let hello: HelloFrame | undefined;
  const frames: ServerFrame[] = [];
  /** Messages may go to `settings._early` (after a first hello, before any gap). */
  let early = false;
  let closedAfterProof: CloseInfo | undefined;
  let target: AdoptedHandlers | undefined;
  let settle!: (r: ProofResult) => void;
  const result = new Promise<ProofResult>((resolve) => (settle = resolve));

  /** ms from the start to `t`, if it happened. */
  const since = (t: number | undefined) => (t === undefined ? undefined : t - startedAt);
  const record = (outcome: AttemptOutcome, reason: string, error?: ThroughlineError) => {
    const endedMs = clock.now() - startedAt;
    onRecord({
      transport: name,
      purpose: settings.purpose,
      outcome,
      startedAt,
      openedMs: since(openedAt),
      helloMs: since(helloAt),
      provenMs: outcome === "proven" ? endedMs : undefined,
      endedMs,
      chunks: helloChunk === undefined ? undefined : { hello: helloChunk, probe: probeChunk },
      reason,
      error,
    });
  };

  const succeed = (how: string) => {
    if (phase) return;
    phase = 1;
    clock.clearTimeout(timer);
    record("proven", how);
    settle({ ok: true, hello: hello! });
  };

  const fail = (outcome: AttemptOutcome, info: CloseInfo) => {
    if (phase) return;
    phase = 3;
    clock.clearTimeout(timer);
    link.close();
    record(outcome, info.error ? info.error.message : info.reason, info.error);
    settle({ ok: false, outcome, info });
  };

  const timer = clock.setTimeout(() => {
    const outcome: AttemptOutcome = hello || openedAt !== undefined ? "buffered" : "timeout";
    const what = !DEV
      ? (hello ? "no probe" : openedAt !== undefined ? "no hello" : "no answer")
      : hello
        ? `hello but no probe within ${settings.timeoutMs} ms (held by a proxy?).`
        : openedAt !== undefined
          ? `answered, but no hello within ${settings.timeoutMs} ms (buffered by a proxy?).`
          : `no answer within ${settings.timeoutMs} ms (blocked, or held by a proxy?).`;
    fail(outcome, abnormal(new ThroughlineError("TL_CONNECT_TIMEOUT", `${name}: ${what}`)));
  }, settings.timeoutMs);

  const handlers: TransportHandlers = {
    opened() {
      // (Not passed on: it matters only before adoption, for the attempt's timing and outcome.)
      openedAt ??= clock.now();
    },
    chunk() {
      // (Not passed on either: only the proof counts deliveries.)
      chunkNo++;
    },
    frame(f) {
      if (target) return target.frame(f);
      if (phase > 2) return; // failed or cancelled
      if (f.type === "probe") {
        // Probes prove; they are never handed to the channel.
        if (phase || !hello) return;
        probeChunk = chunkNo;
        const v = proof.probe(f, hello, clock.now() - helloAt!, helloChunk!, chunkNo);
        if (typeof v === "string") succeed(v);
        else if (v) fail("buffered", abnormal(v));
        return;
      }
      // The server closed before the proof: the attempt ends as a close does. (After the proof
      // the close frame is kept: the adopter handles it as a frame.)
      if (f.type === "close" && !phase) return handlers.close({ code: f.code, reason: f.reason, error: closeError(f.code, f.reason) });
      frames.push(f);
      if (f.type === "message") {
        if (early && settings._early) settings._early(f);
      } else if (f.type === "gap") early = false;
      if (f.type === "hello" && !hello) {
        early = frames.length === 1;
        hello = f;
        helloAt = clock.now();
        helloChunk = chunkNo;
        if (settings.hello) settings.hello();
        const v = settings._requireProof ? proof.hello(link) : (DEV ? "hello (proof not required)" : "hello");
        if (v) succeed(v);
      }
    },
    close(info) {
      if (target) return target.close(info);
      if (!phase) fail(classifyClose(info), info);
      else if (phase === 1) closedAfterProof = info;
    },
  };

  const link = transport.create(ctx, handlers);
  link.open();

  return {
    name,
    link,
    result,
    cancel() {
      // Proven but not adopted: only the link goes (the result is settled). While proving: a
      // failure of its own class. Adopted, failed or cancelled: nothing.
      if (phase === 1) {
        phase = 3;
        link.close();
      } else fail("cancelled", { code: 1006, reason: DEV ? "another attempt won, or the channel stopped" : "cancelled" });
    },
    _adopt(h) {
      phase = 2;
      target = h;
      // Once (phase 2): the link's later callbacks go to `h` (not into these), after the replay.
      for (const f of frames) h.frame(f);
      if (closedAfterProof) h.close(closedAfterProof);
    },
  };
}
