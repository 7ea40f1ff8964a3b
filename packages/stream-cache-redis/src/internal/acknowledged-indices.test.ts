import { describe, expect, it } from "vitest";
import { AcknowledgedIndices } from "./acknowledged-indices.ts";

describe("AcknowledgedIndices", () => {
  it("expects one past the highest index acknowledged, never going back", () => {
    const known = new AcknowledgedIndices();
    expect(known.expectedNext("counter", 0)).toBe(-1);
    known.acknowledge("counter", [0, 1, 2], 1000, 0);
    known.acknowledge("counter", [1], 1000, 10);
    expect(known.expectedNext("counter", 20)).toBe(3);
  });

  it("forgets a topic once its keys may have expired, when deleted, and past its limit", () => {
    const known = new AcknowledgedIndices(2);
    known.acknowledge("a", [4], 100, 0);
    expect(known.expectedNext("a", 99)).toBe(5);
    expect(known.expectedNext("a", 100)).toBe(-1);
    known.acknowledge("b", [0], 1000, 0);
    known.forget("b");
    expect(known.expectedNext("b", 1)).toBe(-1);
    known.acknowledge("c", [0], 1000, 0);
    known.acknowledge("d", [0], 1000, 0);
    known.acknowledge("e", [0], 1000, 0);
    expect(["c", "d", "e"].map((key) => known.expectedNext(key, 1))).toEqual([-1, 1, 1]);
  });

  it("keeps a topic written without a time to live", () => {
    const known = new AcknowledgedIndices();
    known.acknowledge("forever", [9], 0, 0);
    expect(known.expectedNext("forever", Number.MAX_SAFE_INTEGER)).toBe(10);
  });
});
