import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { beforeDeadline, DeadlineExceededError, settledBefore } from "./deadline.ts";

const never = new Promise<never>(() => {});

describe("beforeDeadline", () => {
  it("settles as the work does when it settles first", async () => {
    await expect(beforeDeadline(Promise.resolve(7), Date.now() + 1_000, "seven")).resolves.toBe(7);
    await expect(beforeDeadline(Promise.reject(new Error("refused")), Date.now() + 1_000, "a call")).rejects.toThrow(
      "refused",
    );
  });

  it("rejects with what it waited for once the deadline passed, and swallows the work's late failure", async () => {
    const startedAt = Date.now();
    const waited = beforeDeadline(never, startedAt + 50, "resume(call-1)");
    await expect(waited).rejects.toBeInstanceOf(DeadlineExceededError);
    await expect(waited).rejects.toThrow("resume(call-1) did not settle within 50 ms");
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(45);
    let late: (error: Error) => void = () => {};
    const failsLate = new Promise<never>((_resolve, reject) => {
      late = reject;
    });
    await expect(beforeDeadline(failsLate, Date.now(), "a late failure")).rejects.toBeInstanceOf(DeadlineExceededError);
    late(new Error("after the deadline"));
    // An unhandled rejection would fail the test run.
    await sleep(10);
  });
});

describe("settledBefore", () => {
  it("tells whether the work settled, fulfilled or rejected, before the deadline, and never rejects", async () => {
    await expect(settledBefore(Promise.resolve(), Date.now() + 1_000)).resolves.toBe(true);
    await expect(settledBefore(Promise.reject(new Error("closed twice")), Date.now() + 1_000)).resolves.toBe(true);
    await expect(settledBefore(never, Date.now() + 20)).resolves.toBe(false);
  });
});
