import { describe, expect, it } from "vitest";
import { parseCronTrigger } from "./cron-schedule.ts";

describe("parseCronTrigger", () => {
  it("reads five fields, and a TZ= prefix as Inngest accepts it", () => {
    const utc = parseCronTrigger("fn", "0 12 * * *");
    expect(utc.pattern.nextRun(new Date("2026-01-01T00:00:00Z"))?.toISOString()).toBe("2026-01-01T12:00:00.000Z");
    const paris = parseCronTrigger("fn", "TZ=Europe/Paris 0 12 * * *");
    expect(paris.source).toBe("TZ=Europe/Paris 0 12 * * *");
    expect(paris.pattern.nextRun(new Date("2026-01-01T00:00:00Z"))?.toISOString()).toBe("2026-01-01T11:00:00.000Z");
  });

  it("throws naming the function and the expression", () => {
    expect(() => parseCronTrigger("app-nightly", "61 * * * *")).toThrow(
      'function app-nightly: cron "61 * * * *" is not a valid cron expression',
    );
  });
});
