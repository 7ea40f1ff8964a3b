import { ErrorCode, isWaitingEventType, MastraInngestError } from "@mastra/inngest-core";
import { InMemoryStreamCache } from "@mastra/inngest-stream-cache";
import { describe, expect, it } from "vitest";
import { bookkeepingTtlMs, historyRetention, resolveRetention } from "./run-retention.ts";
import { RUN_WAITING_EVENT_TYPE } from "./run-waiting.ts";

describe("resolveRetention", () => {
  it("defaults activeMs from the cache's TTL and endedMs to an hour, at most activeMs", () => {
    expect(resolveRetention(undefined, new InMemoryStreamCache({ ttlMs: 7_200_000 }), 5)).toEqual({
      activeMs: 7_200_000,
      endedMs: 3_600_000,
      waitMs: 5,
    });
    expect(resolveRetention(undefined, new InMemoryStreamCache({ ttlMs: 60_000 }), 5).endedMs).toBe(60_000);
    expect(resolveRetention({ activeMs: 10, endedMs: 20 }, new InMemoryStreamCache(), 5)).toMatchObject({
      activeMs: 10,
      endedMs: 20,
    });
  });

  it("refuses a figure that is not a whole number of milliseconds above 0, naming the field", () => {
    for (const [retention, field] of [
      [{ activeMs: 0 }, "retention.activeMs"],
      [{ endedMs: 1.5 }, "retention.endedMs"],
      [{ activeMs: Number.NaN }, "retention.activeMs"],
    ] as const) {
      const error = (() => {
        try {
          resolveRetention(retention, new InMemoryStreamCache(), 1);
        } catch (thrown) {
          return thrown;
        }
        return undefined;
      })();
      expect(MastraInngestError.isInstance(error, ErrorCode.INVALID_OPTION)).toBe(true);
      expect((error as Error).message).toContain(field);
    }
  });

  it("keeps the record, claim and decisions longer than the history, in every phase", () => {
    const retention = { activeMs: 100, endedMs: 30, waitMs: 500 };
    const history = historyRetention(retention);
    expect(bookkeepingTtlMs(retention, "running")).toBeGreaterThan(history.ttlMs);
    expect(bookkeepingTtlMs(retention, "suspended")).toBeGreaterThan(history.suspendedTtlMs);
    expect(history.suspendedTtlMs).toBeGreaterThan(retention.waitMs);
    for (const status of ["finished", "failed", "aborted"] as const) {
      expect(bookkeepingTtlMs(retention, status)).toBeGreaterThan(history.terminalTtlMs);
    }
  });

  it("the run's waiting event is one the stream cache keeps for the wait", () => {
    expect(isWaitingEventType(RUN_WAITING_EVENT_TYPE)).toBe(true);
  });
});
