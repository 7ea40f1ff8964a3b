import { describe, expect, it } from "vitest";
import { groupByHashTag } from "./cluster.ts";

describe("groupByHashTag", () => {
  it("puts keys with the same hash tag together and every untagged key alone", () => {
    expect(
      groupByHashTag(["p:{run-1}:events", "p:{run-2}:events", "p:{run-1}:index", "plain", "other", "p:{}:empty"]),
    ).toEqual([["p:{run-1}:events", "p:{run-1}:index"], ["p:{run-2}:events"], ["plain"], ["other"], ["p:{}:empty"]]);
  });

  it("takes the first tag only, as Redis Cluster does", () => {
    expect(groupByHashTag(["{a}{b}", "{a}{c}", "x{b}"])).toEqual([["{a}{b}", "{a}{c}"], ["x{b}"]]);
  });
});
