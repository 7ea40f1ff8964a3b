import { describe, expect, it } from "vitest";
import { ErrorCode } from "./error-codes.ts";
import { MastraInngestError } from "./mastra-inngest-error.ts";

describe("MastraInngestError", () => {
  it("carries its code, message and cause", () => {
    const cause = new Error("socket closed");
    const error = new MastraInngestError("[@mastra/inngest-core] closed", { code: ErrorCode.TRANSPORT_CLOSED, cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("MastraInngestError");
    expect(error.code).toBe("TRANSPORT_CLOSED");
    expect(error.message).toBe("[@mastra/inngest-core] closed");
    expect(error.cause).toBe(cause);
  });

  it("is recognised across duplicate installs, where instanceof fails", () => {
    // A second copy of the package defines its own class; only the Symbol.for marker is shared.
    const marker = Symbol.for("@mastra/inngest.error");
    class OtherCopy extends Error {
      code = "RUN_NOT_FOUND";
      constructor() {
        super("from another install");
        Object.defineProperty(this, marker, { value: true });
      }
    }
    const foreign = new OtherCopy();
    expect(foreign instanceof MastraInngestError).toBe(false);
    expect(MastraInngestError.isInstance(foreign)).toBe(true);
    expect(MastraInngestError.isInstance(foreign, ErrorCode.RUN_NOT_FOUND)).toBe(true);
  });

  it("filters by one code or several", () => {
    const error = new MastraInngestError("x", { code: ErrorCode.DUPLICATE_RESUME });
    expect(MastraInngestError.isInstance(error, ErrorCode.DUPLICATE_RESUME)).toBe(true);
    expect(MastraInngestError.isInstance(error, ErrorCode.RUN_NOT_FOUND)).toBe(false);
    expect(MastraInngestError.isInstance(error, [ErrorCode.RUN_NOT_FOUND, ErrorCode.DUPLICATE_RESUME])).toBe(true);
  });

  it.each([null, undefined, "MastraInngestError", new Error("plain"), { code: "RUN_NOT_FOUND" }])(
    "does not recognise %j",
    (value) => {
      expect(MastraInngestError.isInstance(value)).toBe(false);
    },
  );

  it("keeps the marker out of copies made by spreading", () => {
    const error = new MastraInngestError("x", { code: ErrorCode.INVALID_ID });
    const marker = Symbol.for("@mastra/inngest.error");
    expect(Object.getOwnPropertyDescriptor(error, marker)?.enumerable).toBe(false);
    expect(Object.getOwnPropertySymbols({ ...error })).toEqual([]);
  });

  it("has every code the contract lists, each equal to its name", () => {
    const required = [
      "INVALID_ID",
      "INVALID_OFFSET",
      "RUN_NOT_FOUND",
      "RUN_IN_USE",
      "RUN_NOT_SUSPENDED",
      "NO_PENDING_RESUME",
      "AMBIGUOUS_RESUME",
      "DUPLICATE_RESUME",
      "RESUME_EXPIRED",
      "OFFSET_EXPIRED",
      "PAYLOAD_TOO_LARGE",
      "LIMIT_EXCEEDED",
      "TRANSPORT_CLOSED",
      "SHARED_CACHE_REQUIRED",
      "NOT_SERIALIZABLE_OPTION",
      "DEV_MODE_IN_PRODUCTION",
      "UNSAFE_IN_PRODUCTION",
      "RUN_FORBIDDEN",
    ];
    for (const code of required) {
      expect(ErrorCode).toHaveProperty(code, code);
    }
    for (const [name, value] of Object.entries(ErrorCode)) {
      expect(value).toBe(name);
    }
  });

  it("stands for an HTTP status, as servers that read `status` answer", () => {
    const status = (code: ErrorCode) => new MastraInngestError("-", { code }).status;
    expect(status(ErrorCode.RUN_FORBIDDEN)).toBe(403);
    expect(status(ErrorCode.RUN_NOT_FOUND)).toBe(404);
    expect(status(ErrorCode.RUN_NOT_SUSPENDED)).toBe(409);
    expect(status(ErrorCode.INVALID_OPTION)).toBe(400);
    expect(status(ErrorCode.SHARED_CACHE_REQUIRED)).toBe(500);
  });
});
