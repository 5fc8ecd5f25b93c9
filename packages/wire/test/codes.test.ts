import { describe, expect, it } from "vitest";
import {
  CLOSE_CODES,
  CloseCode,
  ERROR_CODES,
  ThroughlineError,
  closeCodeInfo,
  errorCodeInfo,
  httpError,
  isThroughlineError,
  statusOf,
  closeCodeOf,
  reconnectsAfter,
  ERROR_CLOSE,
  ERROR_STATUS,
  isErrorCode,
  type CloseCodeName,
  type ErrorCode,
} from "@throughline/wire";
import { ERROR_CODE_NAMES } from "../src/error-code-names.js";

/**
 * The error-code contract, checked both ways: the compiler rejects a missing or unknown key of
 * the ErrorCode union, the test rejects a table entry that differs. Adding a code means adding
 * it here too, on purpose. `undefined`: raised by the client or the API, never an HTTP answer.
 */
const EXPECTED_STATUS: Record<ErrorCode, number | undefined> = {
  TL_NOT_FOUND: 404,
  TL_METHOD_NOT_ALLOWED: 405,
  TL_TRANSPORT_DISABLED: 404,
  TL_UPGRADE_REQUIRED: 426,
  TL_UNKNOWN_SESSION: 404,
  TL_BAD_REQUEST: 400,
  TL_BAD_TOPIC: 400,
  TL_BAD_MESSAGE: 400,
  TL_PAYLOAD_TOO_LARGE: 413,
  TL_UNAUTHORIZED: 401,
  TL_FORBIDDEN: 403,
  TL_RATE_LIMITED: 429,
  TL_SERVER_CLOSING: 503,
  TL_INTERNAL: 500,
  TL_BACKPLANE_UNAVAILABLE: 503,
  TL_BAD_FRAME: undefined,
  TL_HTTP_STATUS: undefined,
  TL_NOT_EVENT_STREAM: undefined,
  TL_CONNECT_TIMEOUT: undefined,
  TL_CONNECT_FAILED: undefined,
  TL_CONNECTION_LOST: undefined,
  TL_NO_TRANSPORT: undefined,
  TL_NO_WEBSOCKET: undefined,
  TL_CLOSED: undefined,
  TL_SEND_FAILED: undefined,
  TL_INVALID_OPTION: undefined,
  TL_BAD_EVENT: undefined,
  TL_BAD_DATA: undefined,
  TL_MESSAGE_TOO_BIG: undefined,
  TL_GAP: undefined,
};

/** Close codes and whether the client reconnects after them (PROTOCOL.md, codes.ts). */
const EXPECTED_CLOSE: Record<CloseCodeName, readonly [number, boolean]> = {
  NORMAL: [1000, false],
  GOING_AWAY: [1001, true],
  ABNORMAL: [1006, true],
  MESSAGE_TOO_BIG: [1009, true],
  INTERNAL_ERROR: [1011, true],
  BAD_REQUEST: [4400, false],
  AUTH_EXPIRED: [4401, true],
  FORBIDDEN: [4403, false],
  UNKNOWN_SESSION: [4404, true],
  TOO_SLOW: [4408, true],
  REPLACED: [4409, false],
  RATE_LIMITED: [4429, true],
};

describe("error code table", () => {
  it("has unique codes, all TL_ in upper snake case, each with a description", () => {
    const codes = ERROR_CODES.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const e of ERROR_CODES) {
      expect(e.code).toMatch(/^TL_[A-Z]+(_[A-Z]+)*$/);
      expect(e.description.length).toBeGreaterThan(10);
    }
  });

  it("holds exactly the codes of the ErrorCode union, with their statuses", () => {
    expect(ERROR_CODES.map((e) => e.code).sort()).toEqual(Object.keys(EXPECTED_STATUS).sort());
    for (const e of ERROR_CODES) expect(e.status, e.code).toBe(EXPECTED_STATUS[e.code as ErrorCode]);
  });

  it("gives every HTTP status as a 4xx or 5xx", () => {
    for (const e of ERROR_CODES) if (e.status !== undefined) expect(e.status >= 400 && e.status <= 599, e.code).toBe(true);
  });

  it("is frozen, entries included", () => {
    expect(Object.isFrozen(ERROR_CODES)).toBe(true);
    for (const e of ERROR_CODES) expect(Object.isFrozen(e)).toBe(true);
  });

  it("looks codes up, and returns undefined for unknown ones", () => {
    expect(errorCodeInfo("TL_BAD_MESSAGE")).toMatchObject({ code: "TL_BAD_MESSAGE", status: 400 });
    expect(errorCodeInfo("TL_NOPE")).toBeUndefined();
    expect(errorCodeInfo("")).toBeUndefined();
    expect(errorCodeInfo("__proto__")).toBeUndefined();
  });

  it("gives statusOf from the table, and 500 for codes without a status", () => {
    for (const [code, status] of Object.entries(EXPECTED_STATUS)) expect(statusOf(code as ErrorCode)).toBe(status ?? 500);
  });
});

describe("close code table", () => {
  it("has unique codes and names that match CloseCode", () => {
    expect(new Set(CLOSE_CODES.map((c) => c.code)).size).toBe(CLOSE_CODES.length);
    expect(new Set(CLOSE_CODES.map((c) => c.name)).size).toBe(CLOSE_CODES.length);
    expect(Object.fromEntries(CLOSE_CODES.map((c) => [c.name, c.code]))).toEqual({ ...CloseCode });
  });

  it("says for each code whether the client reconnects", () => {
    expect(Object.keys(EXPECTED_CLOSE).sort()).toEqual(Object.keys(CloseCode).sort());
    for (const [name, [code, reconnect]] of Object.entries(EXPECTED_CLOSE)) {
      expect(CloseCode[name as CloseCodeName]).toBe(code);
      expect(closeCodeInfo(code)).toMatchObject({ code, name, reconnect });
    }
  });

  it("uses only standard codes or the RFC 6455 application range 4000–4999", () => {
    for (const c of CLOSE_CODES) expect((c.code >= 1000 && c.code <= 1015) || (c.code >= 4000 && c.code <= 4999), String(c.code)).toBe(true);
  });

  it("is frozen, entries included", () => {
    expect(Object.isFrozen(CLOSE_CODES)).toBe(true);
    expect(Object.isFrozen(CloseCode)).toBe(true);
    for (const c of CLOSE_CODES) expect(Object.isFrozen(c)).toBe(true);
  });

  it("treats an unknown application code (4000–4999) as final", () => {
    for (const code of [4000, 4001, 4402, 4500, 4999]) {
      expect(closeCodeInfo(code)).toMatchObject({ code, name: "UNKNOWN", reconnect: false });
    }
  });

  it("reconnects after an unknown code outside the application range", () => {
    for (const code of [1002, 1005, 1012, 3000, 3999, 5000, 0, 999]) {
      expect(closeCodeInfo(code)).toMatchObject({ code, name: "UNKNOWN", reconnect: true });
    }
  });
});

describe("ThroughlineError", () => {
  it("prefixes the message and carries code, status and close code", () => {
    const cause = new Error("boom");
    const err = new ThroughlineError("TL_CONNECTION_LOST", "the stream ended.", { status: 502, closeCode: 1006, cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("ThroughlineError");
    expect(err.message).toBe("Throughline: the stream ended.");
    expect(err.code).toBe("TL_CONNECTION_LOST");
    expect(err.status).toBe(502);
    expect(err.closeCode).toBe(1006);
    expect(err.cause).toBe(cause);
  });

  it("leaves status, close code and cause undefined when not given", () => {
    const err = new ThroughlineError("TL_CLOSED", "closed.");
    expect(err.status).toBeUndefined();
    expect(err.closeCode).toBeUndefined();
    expect("cause" in err).toBe(false);
  });

  it("serializes to the server's JSON error body", () => {
    const err = httpError("TL_UNKNOWN_SESSION", "unknown session.");
    expect(JSON.parse(JSON.stringify(err))).toEqual({ error: { code: "TL_UNKNOWN_SESSION", message: "Throughline: unknown session." } });
  });

  it("httpError takes the status from the code table", () => {
    expect(httpError("TL_PAYLOAD_TOO_LARGE", "too big.").status).toBe(413);
    expect(httpError("TL_UPGRADE_REQUIRED", "upgrade.").status).toBe(426);
    expect(httpError("TL_CLOSED", "no status in the table.").status).toBe(500);
  });

  it("isThroughlineError tells Throughline errors from others", () => {
    expect(isThroughlineError(new ThroughlineError("TL_INTERNAL", "x"))).toBe(true);
    for (const v of [new Error("Throughline: x"), { code: "TL_INTERNAL" }, null, undefined, "TL_INTERNAL"]) expect(isThroughlineError(v)).toBe(false);
  });
});

describe("the one error table: code ↔ status ↔ close code ↔ reconnect", () => {
  it("gives every server-answered error a close code, and the reconnect rule of that close code", () => {
    for (const e of ERROR_CODES) {
      if (e.status !== undefined && e.code !== "TL_UPGRADE_REQUIRED") expect(e.close, e.code).toBeDefined();
      if (e.close !== undefined) expect(Object.values(CloseCode), e.code).toContain(e.close);
      expect(e.reconnect, e.code).toBe(e.close !== undefined && closeCodeInfo(e.close).reconnect);
      expect(reconnectsAfter(e.code as ErrorCode)).toBe(e.reconnect);
    }
  });

  it("maps the refusals a WebSocket learns after its upgrade to their close codes", () => {
    expect([closeCodeOf("TL_BAD_TOPIC"), closeCodeOf("TL_FORBIDDEN"), closeCodeOf("TL_UNKNOWN_SESSION"), closeCodeOf("TL_SERVER_CLOSING")]).toEqual([
      CloseCode.BAD_REQUEST,
      CloseCode.FORBIDDEN,
      CloseCode.UNKNOWN_SESSION,
      CloseCode.GOING_AWAY,
    ]);
    // Anything unknown is the server's fault: 1011, which the client reconnects after.
    expect(closeCodeOf("TL_NOPE")).toBe(CloseCode.INTERNAL_ERROR);
  });

  it("keeps ERROR_STATUS and ERROR_CLOSE in step with ERROR_CODES", () => {
    for (const e of ERROR_CODES) {
      expect(ERROR_STATUS[e.code as ErrorCode] ?? undefined).toBe(e.status);
      expect(ERROR_CLOSE[e.code as ErrorCode] ?? undefined).toBe(e.close);
    }
  });

  it("lists exactly the table's codes in the client's names-only slice, and isErrorCode uses it", () => {
    expect(ERROR_CODE_NAMES).toEqual(Object.keys(ERROR_STATUS));
    expect(ERROR_CODE_NAMES).toEqual(ERROR_CODES.map((e) => e.code));
    for (const code of ERROR_CODE_NAMES) expect(isErrorCode(code)).toBe(true);
    for (const v of ["TL_", "TL_NOPE", "NOT_FOUND", "tl_not_found", "TL_NOT_FOUND ", "TL_toString", "TL___proto__", "", 404, null, undefined, {}]) {
      expect(isErrorCode(v)).toBe(false);
    }
  });
});
