import { describe, expect, it } from "vitest";
import { ConcurrencyLimiter, type ConcurrencySlot, type LimitedRun } from "./concurrency-limiter.ts";

const run = (id: string, score: number, ...slots: ConcurrencySlot[]): LimitedRun => ({ id, score, slots });

describe("ConcurrencyLimiter", () => {
  it("queues a run whose group is full and wakes the queue in score order as slots free", () => {
    const limiter = new ConcurrencyLimiter();
    const group = { id: "fn:a", limit: 1 };
    const woken: string[] = [];
    expect(limiter.acquire(run("r1", 1, group), () => woken.push("r1"))).toBe(true);
    expect(limiter.acquire(run("r3", 3, group), () => woken.push("r3"))).toBe(false);
    expect(limiter.acquire(run("r2", 2, group), () => woken.push("r2"))).toBe(false);
    expect(limiter.waitingCount).toBe(2);
    limiter.release(run("r1", 1, group));
    expect(woken).toEqual(["r2"]);
    limiter.release(run("r2", 2, group));
    expect(woken).toEqual(["r2", "r3"]);
  });

  it("needs a slot in every constraint: a run waits on its key while its function has room", () => {
    const limiter = new ConcurrencyLimiter();
    const fn = { id: "fn:a", limit: 2 };
    const userA = { id: "fn:a\u0000a", limit: 1 };
    const userB = { id: "fn:a\u0000b", limit: 1 };
    const woken: string[] = [];
    expect(limiter.acquire(run("a1", 1, fn, userA), () => woken.push("a1"))).toBe(true);
    expect(limiter.acquire(run("a2", 2, fn, userA), () => woken.push("a2"))).toBe(false);
    expect(limiter.acquire(run("b1", 3, fn, userB), () => woken.push("b1"))).toBe(true);
    // The function's two slots are taken now: b2 waits on the function, not on its key.
    expect(limiter.acquire(run("b2", 4, fn, userB), () => woken.push("b2"))).toBe(false);
    limiter.release(run("b1", 3, fn, userB));
    expect(woken).toEqual(["b2"]);
    limiter.release(run("a1", 1, fn, userA));
    expect(woken).toEqual(["b2", "a2"]);
  });

  it("does not let a newcomer pass a run queued ahead of it in the same group", () => {
    const limiter = new ConcurrencyLimiter();
    const group = { id: "fn:a", limit: 1 };
    const holder = run("h", 1, group);
    limiter.acquire(holder, () => {});
    limiter.acquire(run("w", 2, group), () => {});
    limiter.release(holder);
    // w was woken and took the slot; a later run with a lower score still waits behind it.
    expect(limiter.acquire(run("late", 0, group), () => {})).toBe(false);
  });

  it("gives back the slot of a run that ends while queued, and ignores a second release", () => {
    const limiter = new ConcurrencyLimiter();
    const group = { id: "fn:a", limit: 1 };
    const holder = run("h", 1, group);
    const queued = run("q", 2, group);
    limiter.acquire(holder, () => {});
    limiter.acquire(queued, () => {});
    limiter.release(queued);
    expect(limiter.waitingCount).toBe(0);
    limiter.release(holder);
    limiter.release(holder);
    expect(limiter.acquire(run("next", 3, group), () => {})).toBe(true);
  });
});
