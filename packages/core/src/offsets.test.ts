import { describe, expect, it } from "vitest";
import { ErrorCode } from "./error-codes.ts";
import { MastraInngestError } from "./mastra-inngest-error.ts";
import { assertValidOffset } from "./offsets.ts";

describe("assertValidOffset", () => {
  it.each([0, 1, 500, Number.MAX_SAFE_INTEGER, "latest"])("accepts %j", (offset) => {
    expect(assertValidOffset(offset)).toBe(offset);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, "3", "earliest", null, undefined, {}])(
    "rejects %j with INVALID_OFFSET naming the field",
    (offset) => {
      let thrown: unknown;
      try {
        assertValidOffset(offset, "options.offset");
      } catch (error) {
        thrown = error;
      }
      expect(MastraInngestError.isInstance(thrown, ErrorCode.INVALID_OFFSET)).toBe(true);
      expect((thrown as Error).message).toMatch(/options\.offset must be a non-negative integer .* or 'latest'/);
    },
  );
});
