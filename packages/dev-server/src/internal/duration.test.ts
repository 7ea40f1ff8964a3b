import { describe, expect, it } from "vitest";
import { maximumSleepMs, parseDurationMs, resolveWakeTime } from "./duration.ts";

const second = 1_000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;

describe("parseDurationMs", () => {
  it.each([
    ["1s", second],
    ["90s", 90 * second],
    ["1m30s", minute + 30 * second],
    ["10m", 10 * minute],
    ["1h", hour],
    ["1h30m", hour + 30 * minute],
    ["2d", 2 * day],
    ["1w", 7 * day],
    ["1d2h3m4s", day + 2 * hour + 3 * minute + 4 * second],
    ["52w1d6h", 52 * 7 * day + day + 6 * hour],
    ["500ms", 500],
    ["1s500ms", 1_500],
    ["1.5h", 90 * minute],
    ["0s", 0],
  ])("parses %j", (value, expected) => {
    expect(parseDurationMs(value)).toBe(expected);
  });

  it("reads the empty string the SDK writes for a zero or negative duration as zero", () => {
    expect(parseDurationMs("")).toBe(0);
  });

  it.each(["1", "s", "1x", "1 h", " 1h", "1h ", "-1s", "1.s", "1y", "1S", "one hour", "2030-01-01T00:00:00.000Z"])(
    "rejects %j with a message naming the value",
    (value) => {
      expect(() => parseDurationMs(value)).toThrow(
        `[@mastra/inngest-dev-server] invalid duration ${JSON.stringify(value)}`,
      );
    },
  );
});

describe("resolveWakeTime", () => {
  const now = Date.parse("2026-05-01T12:00:00.000Z");

  it("adds a duration to now", () => {
    expect(resolveWakeTime("1m30s", now)).toBe(now + 90 * second);
    expect(resolveWakeTime("1s", now)).toBe(now + second);
  });

  it("wakes at once for the empty duration", () => {
    expect(resolveWakeTime("", now)).toBe(now);
  });

  it("returns the date of a sleepUntil", () => {
    expect(resolveWakeTime("2026-05-02T00:00:00.000Z", now)).toBe(Date.parse("2026-05-02T00:00:00.000Z"));
    expect(resolveWakeTime("2026-05-01T14:00:00+02:00", now)).toBe(now);
    expect(resolveWakeTime("2026-05-03", now)).toBe(Date.parse("2026-05-03T00:00:00.000Z"));
  });

  it("wakes at once for a date in the past", () => {
    expect(resolveWakeTime("2020-01-01T00:00:00.000Z", now)).toBe(now);
  });

  it("caps both forms at one year from now", () => {
    expect(maximumSleepMs).toBe(365 * day);
    expect(resolveWakeTime("57w1d", now)).toBe(now + maximumSleepMs);
    expect(resolveWakeTime("2030-01-01T00:00:00.000Z", now)).toBe(now + maximumSleepMs);
    expect(resolveWakeTime("52w", now)).toBe(now + 52 * 7 * day);
  });

  it.each(["soon", "1", "March 7, 2030", "2030-13-45T00:00:00Z", "2030-01-01T00:00:00.000Zjunk"])(
    "rejects %j",
    (name) => {
      expect(() => resolveWakeTime(name, now)).toThrow(
        `[@mastra/inngest-dev-server] invalid sleep ${JSON.stringify(name)}`,
      );
    },
  );
});
