import { AgentStreamEventTypes } from "@mastra/core/agent/durable";
import { describe, expect, it } from "vitest";
import { FINAL_RUN_STATUSES, isFinalRunStatus } from "./run-record.ts";
import { formatProducerKey, isTerminalEventType, TERMINAL_EVENT_TYPES } from "./stream-event.ts";

describe("terminal event types", () => {
  it("are finish, error and abort, as @mastra/core names them", () => {
    expect([...TERMINAL_EVENT_TYPES].sort()).toEqual(
      [AgentStreamEventTypes.FINISH, AgentStreamEventTypes.ERROR, AgentStreamEventTypes.ABORT].sort(),
    );
  });

  it("exclude every other event type, suspended included", () => {
    const others = Object.values(AgentStreamEventTypes).filter((type) => !TERMINAL_EVENT_TYPES.includes(type));
    expect(others).toContain("suspended");
    for (const type of others) {
      expect(isTerminalEventType(type)).toBe(false);
    }
  });
});

describe("formatProducerKey", () => {
  it("gives distinct strings for distinct keys, even when step ids contain separators", () => {
    const keys = [
      { stepId: "llm:0", attempt: 0, sequence: 1 },
      { stepId: "llm:0", attempt: 1, sequence: 0 },
      { stepId: "0@llm", attempt: 0, sequence: 1 },
      { stepId: "tool:0:1", attempt: 0, sequence: 1 },
      { stepId: "1@tool", attempt: 0, sequence: 0 },
    ];
    const formatted = keys.map(formatProducerKey);
    expect(new Set(formatted).size).toBe(keys.length);
    expect(formatProducerKey({ stepId: "llm:0", attempt: 2, sequence: 7 })).toBe("2:7@llm:0");
  });
});

describe("run statuses", () => {
  it("are final for finished, failed and aborted only", () => {
    expect(FINAL_RUN_STATUSES).toEqual(["finished", "failed", "aborted"]);
    expect(isFinalRunStatus("running")).toBe(false);
    expect(isFinalRunStatus("suspended")).toBe(false);
    expect(isFinalRunStatus("aborted")).toBe(true);
  });
});

describe("createSupersededMarker", () => {
  it("builds the same marker from the first event of the new attempt, wherever it is built", async () => {
    const { createSupersededMarker, ATTEMPT_SUPERSEDED_EVENT_TYPE } = await import("./stream-notices.ts");
    const marker = createSupersededMarker(
      { id: "event-7", runId: "run-1", createdAt: "2026-11-27T10:00:00.000Z" },
      { stepId: "llm:0", attempt: 1, supersededAttempt: 0 },
    );
    expect(marker).toEqual({
      type: ATTEMPT_SUPERSEDED_EVENT_TYPE,
      id: "event-7:superseded",
      runId: "run-1",
      createdAt: "2026-11-27T10:00:00.000Z",
      data: { stepId: "llm:0", attempt: 1, supersededAttempt: 0 },
    });
  });
});
