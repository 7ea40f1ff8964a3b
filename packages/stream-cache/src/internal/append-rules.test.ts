import { describe, expect, it } from "vitest";
import { decideAppend } from "./append-rules.ts";

const value = { id: "event-1", type: "chunk", runId: "run-1", data: {}, createdAt: new Date(0), index: 0 } as never;
const fromAttempt = (attempt: number) =>
  ({ value, key: `step-1:${attempt}:0`, producer: { stepId: "step-1", attempt, sequence: 0 } }) as never;
const empty = { knownIndex: undefined, stored: 0, maxEvents: undefined, currentAttempt: undefined };

describe("decideAppend", () => {
  it("refuses a stored key as a duplicate, naming the stored index", () => {
    expect(decideAppend(fromAttempt(1), { ...empty, knownIndex: 4 })).toEqual({
      action: "refuse",
      outcome: { status: "duplicate", index: 4 },
    });
  });

  it("refuses past maxEvents unless the entry is exempt", () => {
    const full = { ...empty, stored: 3, maxEvents: 3 };
    expect(decideAppend(fromAttempt(1), full)).toEqual({ action: "refuse", outcome: { status: "limit" } });
    expect(decideAppend({ value, key: "id:end", exemptFromLimit: true }, full)).toMatchObject({ action: "append" });
  });

  it("refuses an older attempt than the step's newest as stale", () => {
    expect(decideAppend(fromAttempt(1), { ...empty, currentAttempt: 2 })).toEqual({
      action: "refuse",
      outcome: { status: "stale", currentAttempt: 2 },
    });
  });

  it("appends a newer attempt after a marker of the superseded one, and records it", () => {
    expect(decideAppend(fromAttempt(3), { ...empty, currentAttempt: 2 })).toEqual({
      action: "append",
      supersededAttempt: 2,
      recordsAttempt: true,
    });
  });

  it("appends the same attempt without a marker, and an event no step produced without recording", () => {
    expect(decideAppend(fromAttempt(2), { ...empty, currentAttempt: 2 })).toEqual({
      action: "append",
      supersededAttempt: undefined,
      recordsAttempt: false,
    });
    expect(decideAppend(fromAttempt(1), empty)).toEqual({
      action: "append",
      supersededAttempt: undefined,
      recordsAttempt: true,
    });
    expect(decideAppend({ value, key: "id:x" }, empty)).toEqual({
      action: "append",
      supersededAttempt: undefined,
      recordsAttempt: false,
    });
  });
});
