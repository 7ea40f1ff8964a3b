import type { Event } from "@mastra/core/events";
import { ATTEMPT_SUPERSEDED_EVENT_TYPE } from "@mastra/inngest-core";
import { describe, expect, it } from "vitest";
import { segmentViolations } from "./run-invariants.ts";

const event = (index: number, stepId = "llm:0", attempt = 0, type = "chunk"): Event =>
  ({
    id: `${stepId}@${attempt}-${index}`,
    type,
    runId: "r",
    data: {},
    createdAt: new Date(0),
    index,
    producer: { stepId, attempt, sequence: index },
  }) as Event;

// Indices 0-2 of llm:0 attempt 0 were superseded; the history holds the marker (3) and attempt 1 (4-6).
const history = [
  event(3, "llm:0", 1, ATTEMPT_SUPERSEDED_EVENT_TYPE),
  event(4, "llm:0", 1),
  event(5, "llm:0", 1),
  event(6, "finish", 0, "finish"),
];

describe("segmentViolations", () => {
  it("accepts the history from the offset, and live events of the superseded attempt before it", () => {
    const live = [event(0), event(1), ...history];
    expect(segmentViolations({ offset: 0, events: live, ended: true, disconnected: false }, history)).toEqual([]);
    expect(
      segmentViolations({ offset: 5, events: history.slice(2), ended: true, disconnected: false }, history),
    ).toEqual([]);
  });

  it("accepts an observer that left early with a prefix of the history", () => {
    expect(
      segmentViolations({ offset: 3, events: history.slice(0, 2), ended: false, disconnected: true }, history),
    ).toEqual([]);
  });

  it("reports a missed, repeated, unknown or changed index, and an observer that never ended", () => {
    const missed = segmentViolations(
      { offset: 3, events: [history[0], history[2], history[3]] as Event[], ended: true, disconnected: false },
      history,
    );
    expect(missed).toEqual(["missed indices 4"]);
    const repeated = segmentViolations(
      { offset: 3, events: [...history.slice(0, 2), ...history.slice(1)], ended: true, disconnected: false },
      history,
    );
    expect(repeated).toEqual(["received index 4 after 4"]);
    const unknown = segmentViolations(
      {
        offset: 3,
        events: [...history.slice(0, 3), event(7, "map:0"), history[3] as Event],
        ended: true,
        disconnected: false,
      },
      history,
    );
    expect(unknown).toContain("received index 7 (chunk), which the history does not hold");
    const changed = segmentViolations(
      { offset: 6, events: [{ ...(history[3] as Event), id: "other" }], ended: true, disconnected: false },
      history,
    );
    expect(changed).toEqual(["received another event at index 6 than the history holds"]);
    expect(
      segmentViolations({ offset: 3, events: history.slice(0, 3), ended: false, disconnected: false }, history),
    ).toEqual(["missed indices 6", "never received the terminal event (last index 5)"]);
  });
});
