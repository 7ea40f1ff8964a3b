import { describe, expect, it } from "vitest";
import { ErrorCode } from "./error-codes.ts";
import { invalidOption } from "./invalid-option.ts";

describe("invalidOption", () => {
  it("names the package, the field, the allowed form and the value given", () => {
    const error = invalidOption("@mastra/inngest-x", "batchWindowMs", "a positive integer", -1);
    expect(error.message).toBe("[@mastra/inngest-x] batchWindowMs must be a positive integer, got number -1");
    expect(error.code).toBe(ErrorCode.INVALID_OPTION);
  });
});
