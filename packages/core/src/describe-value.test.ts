import { describe, expect, it } from "vitest";
import { describeValue } from "./describe-value.ts";

describe("describeValue", () => {
  it.each([
    ["abc", '"abc"'],
    ["a\r\nb", '"a\\r\\nb"'],
    [undefined, "undefined"],
    [null, "null"],
    [-1, "number -1"],
    [true, "boolean true"],
    [{}, "an object"],
    [[1], "an array"],
  ])("describes %j as %s", (value, expected) => {
    expect(describeValue(value)).toBe(expected);
  });

  it("cuts long strings and says how long they were", () => {
    const described = describeValue("x".repeat(10_000));
    expect(described).toMatch(/^"x{64}\.\.\." \(10000 characters\)$/);
  });
});
