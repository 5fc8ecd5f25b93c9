import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as Effect from "effect/Effect";
import { CLOSE_CODES, ERROR_CODES, ThroughlineError, type ErrorCode } from "@throughline/wire";
import { Errors } from "@throughline/effect";

const TAGS = ["AuthError", "ForbiddenError", "RateLimitedError", "TooBigError", "ConnectionLostError", "ProtocolError", "InvalidInputError", "BackplaneError"];

describe("Errors", () => {
  it("places every wire error code in exactly one family, and no code the wire does not have", () => {
    const wire = ERROR_CODES.map((e) => e.code).sort();
    expect(Object.keys(Errors.FAMILY_OF_CODE).sort()).toEqual(wire);
    for (const code of wire) expect(TAGS).toContain(Errors.FAMILY_OF_CODE[code as ErrorCode]);
  });

  it("places every wire close code in a family", () => {
    expect(Object.keys(Errors.FAMILY_OF_CLOSE).sort()).toEqual(CLOSE_CODES.map((c) => c.name).sort());
    for (const c of CLOSE_CODES) {
      const e = Errors.fromClose({ code: c.code, reason: "r" });
      expect(e._tag).toBe(Errors.FAMILY_OF_CLOSE[c.name as keyof typeof Errors.FAMILY_OF_CLOSE]);
      expect(e.closeCode).toBe(c.code);
    }
  });

  it("every family is reachable from some code", () => {
    expect(new Set(Object.values(Errors.FAMILY_OF_CODE))).toEqual(new Set(TAGS));
  });

  it("keeps code, status, close code and the original error as cause", () => {
    const original = new ThroughlineError("TL_FORBIDDEN", "no", { status: 403, closeCode: 4403 });
    const e = Errors.fromThroughlineError(original);
    expect(e).toBeInstanceOf(Errors.ForbiddenError);
    expect({ tag: e._tag, code: e.code, status: e.status, closeCode: e.closeCode, message: e.message }).toEqual({
      tag: "ForbiddenError",
      code: "TL_FORBIDDEN",
      status: 403,
      closeCode: 4403,
      message: "Throughline: no",
    });
    expect(e.cause).toBe(original);
  });

  it("a close with an error takes the error's family; an unknown close code is a protocol error", () => {
    const err = new ThroughlineError("TL_RATE_LIMITED", "slow down");
    expect(Errors.fromClose({ code: 1006, reason: "", error: err })._tag).toBe("RateLimitedError");
    expect(Errors.fromClose({ code: 4999, reason: "app" })._tag).toBe("ProtocolError");
  });

  it("anything that is not a ThroughlineError becomes a ProtocolError TL_INTERNAL with the value as cause", () => {
    const boom = new TypeError("boom");
    const e = Errors.fromThroughlineError(boom);
    expect([e._tag, e.code, e.cause]).toEqual(["ProtocolError", "TL_INTERNAL", boom]);
  });

  it("the README's Effect error table lists every code and close code in its family's row", () => {
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
    const row = (tag: string) => readme.split("\n").find((l) => l.startsWith(`| \`${tag}\` |`)) ?? "";
    for (const [code, tag] of Object.entries(Errors.FAMILY_OF_CODE)) expect(row(tag), code).toContain(`\`${code}\``);
    for (const c of CLOSE_CODES) {
      const cells = row(Errors.FAMILY_OF_CLOSE[c.name as keyof typeof Errors.FAMILY_OF_CLOSE]).split("|");
      expect(cells[3] ?? "", c.name).toMatch(new RegExp(`\\b${c.code}\\b`));
    }
  });

  it("catchTag recovers each family by its tag", async () => {
    for (const info of ERROR_CODES) {
      const error = Errors.fromThroughlineError(new ThroughlineError(info.code as ErrorCode, "x"));
      const recovered = await Effect.runPromise(
        Effect.fail(error).pipe(
          Effect.catchTags({
            AuthError: (e) => Effect.succeed(["AuthError", e.code]),
            ForbiddenError: (e) => Effect.succeed(["ForbiddenError", e.code]),
            RateLimitedError: (e) => Effect.succeed(["RateLimitedError", e.code]),
            TooBigError: (e) => Effect.succeed(["TooBigError", e.code]),
            ConnectionLostError: (e) => Effect.succeed(["ConnectionLostError", e.code]),
            ProtocolError: (e) => Effect.succeed(["ProtocolError", e.code]),
            InvalidInputError: (e) => Effect.succeed(["InvalidInputError", e.code]),
            BackplaneError: (e) => Effect.succeed(["BackplaneError", e.code]),
          }),
        ),
      );
      expect(recovered).toEqual([Errors.FAMILY_OF_CODE[info.code as ErrorCode], info.code]);
    }
    const one = await Effect.runPromise(
      Effect.fail(Errors.fromThroughlineError(new ThroughlineError("TL_UNAUTHORIZED", "who?"))).pipe(
        Effect.catchTag("AuthError", (e) => Effect.succeed(e.code)),
      ),
    );
    expect(one).toBe("TL_UNAUTHORIZED");
  });
});
