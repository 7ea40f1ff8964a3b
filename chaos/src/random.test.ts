import { describe, expect, it } from "vitest";
import { chooseSeed, createRandom } from "./random.ts";

describe("createRandom", () => {
  it("gives the same sequence for the same seed, and forks that depend only on seed and label", () => {
    const draw = (seed: number) => Array.from({ length: 5 }, () => createRandom(seed).fork("a").integer(0, 1_000_000));
    expect(draw(7)).toEqual(draw(7));
    const first = createRandom(7);
    first.next();
    expect(first.fork("runs").next()).toBe(createRandom(7).fork("runs").next());
    expect(createRandom(7).fork("runs").next()).not.toBe(createRandom(7).fork("faults").next());
    expect(createRandom(8).next()).not.toBe(createRandom(7).next());
  });

  it("keeps integers within their bounds", () => {
    const random = createRandom(1);
    const values = Array.from({ length: 1_000 }, () => random.integer(2, 4));
    expect(new Set(values)).toEqual(new Set([2, 3, 4]));
  });
});

describe("chooseSeed", () => {
  it("replays CHAOS_SEED and refuses one that is not a 32-bit integer", () => {
    expect(chooseSeed({ CHAOS_SEED: "42" })).toBe(42);
    expect(() => chooseSeed({ CHAOS_SEED: "4.2" })).toThrow(/CHAOS_SEED/);
    expect(() => chooseSeed({ CHAOS_SEED: "-1" })).toThrow(/CHAOS_SEED/);
    expect(chooseSeed({})).toBeGreaterThanOrEqual(0);
  });
});
