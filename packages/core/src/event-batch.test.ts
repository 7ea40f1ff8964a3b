import { describe, expect, it } from "vitest";
import { ErrorCode } from "./error-codes.ts";
import { createEventBatch, fromEnvelope, isEventBatch, toEnvelope, unpackEvents } from "./event-batch.ts";
import { MastraInngestError } from "./mastra-inngest-error.ts";
import type { StreamEvent } from "./stream-event.ts";

function event(sequence: number): StreamEvent {
  return {
    type: "chunk",
    id: `event-${sequence}`,
    runId: "run-1",
    data: { type: "text-delta", payload: { text: `part ${sequence}` } },
    createdAt: new Date(Date.UTC(2026, 10, 27, 10, 0, sequence)),
    index: sequence,
    producer: { stepId: "llm:0", attempt: 0, sequence },
  };
}

function rejection(message: unknown): MastraInngestError {
  try {
    unpackEvents(message);
  } catch (error) {
    if (MastraInngestError.isInstance(error)) {
      return error;
    }
    throw error;
  }
  throw new Error("expected unpackEvents to throw");
}

describe("event batches", () => {
  it("carry many events through JSON in order, with dates, indices and producer keys intact", () => {
    const events = [event(0), event(1), event(2)];
    const wire = JSON.parse(JSON.stringify(createEventBatch(events)));
    expect(isEventBatch(wire)).toBe(true);
    expect(unpackEvents(wire)).toEqual(events);
  });

  it("also read a single event envelope", () => {
    const single = JSON.parse(JSON.stringify(toEnvelope(event(4))));
    expect(isEventBatch(single)).toBe(false);
    expect(unpackEvents(single)).toEqual([event(4)]);
  });

  it("omit index and producer when the event has none", () => {
    const envelope = toEnvelope({ type: "finish", id: "e", runId: "r", data: null, createdAt: new Date(0) });
    expect(envelope).toEqual({
      type: "finish",
      id: "e",
      runId: "r",
      data: null,
      createdAt: "1970-01-01T00:00:00.000Z",
    });
    expect(fromEnvelope(envelope).createdAt).toEqual(new Date(0));
  });

  it("keep a payload that tries prototype pollution as plain data", () => {
    const wire = JSON.parse(
      `{"kind":"mastra-inngest.batch","version":1,"events":[{"type":"chunk","id":"e","runId":"r","createdAt":"1970-01-01T00:00:00.000Z","data":{"__proto__":{"polluted":1}}}]}`,
    );
    const [unpacked] = unpackEvents(wire);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(unpacked?.data as object, "__proto__")).toBe(true);
  });

  it.each([
    ["null", null, "message to be an event object"],
    ["a string", "chunk", "message to be an event object"],
    ["an unknown batch version", { kind: "mastra-inngest.batch", version: 2, events: [] }, "version 1"],
    ["a batch without events", { kind: "mastra-inngest.batch", version: 1 }, "version 1"],
    ["an event without type", { id: "e", runId: "r", createdAt: "x" }, "message.type to be a string"],
    [
      "an event with a negative index",
      { type: "chunk", id: "e", runId: "r", createdAt: "x", index: -1 },
      "message.index to be a non-negative integer",
    ],
    [
      "an event with a malformed producer",
      { type: "chunk", id: "e", runId: "r", createdAt: "x", producer: { stepId: "s", attempt: -1, sequence: 0 } },
      "message.producer",
    ],
    [
      "a batch with a bad event",
      { kind: "mastra-inngest.batch", version: 1, events: [{ type: "chunk", id: "e", runId: 1, createdAt: "x" }] },
      "events[0].runId to be a string",
    ],
  ])("reject %s with INVALID_MESSAGE", (_name, message, expected) => {
    const error = rejection(message);
    expect(error.code).toBe(ErrorCode.INVALID_MESSAGE);
    expect(error.message).toContain(expected);
  });
});
