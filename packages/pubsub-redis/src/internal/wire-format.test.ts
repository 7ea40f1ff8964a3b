import { ErrorCode } from "@mastra/inngest-core";
import { describe, expect, it } from "vitest";
import { decodeEvent, encodeEvent } from "./wire-format.ts";

describe("encodeEvent", () => {
  it("keeps the event's fields, a given index included, and adds a new id and an ISO createdAt", () => {
    const before = Date.now();
    const encoded = JSON.parse(
      encodeEvent({ type: "chunk", runId: "run-1", data: { text: "hi" }, index: 4, extra: true } as never, "test"),
    );
    expect(encoded).toMatchObject({ type: "chunk", runId: "run-1", data: { text: "hi" }, index: 4, extra: true });
    expect(encoded.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(encoded.createdAt)).toBeGreaterThanOrEqual(before - 1);
    const again = JSON.parse(encodeEvent({ type: "chunk", runId: "run-1", data: null }, "test"));
    expect(again.id).not.toBe(encoded.id);
  });

  it("replaces an id and createdAt the caller passed", () => {
    const encoded = JSON.parse(
      encodeEvent({ type: "chunk", runId: "run-1", data: null, id: "mine", createdAt: "then" } as never, "test"),
    );
    expect(encoded.id).not.toBe("mine");
    expect(encoded.createdAt).not.toBe("then");
  });

  it("throws INVALID_MESSAGE for data that is not JSON", () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => encodeEvent({ type: "chunk", runId: "run-1", data: circular }, "test")).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_MESSAGE }),
    );
  });
});

describe("decodeEvent", () => {
  it("turns createdAt back into a Date and keeps every other field", () => {
    const decoded = decodeEvent(
      JSON.stringify({
        type: "chunk",
        id: "e1",
        runId: "run-1",
        data: [1],
        index: 2,
        createdAt: "2026-01-02T03:04:05.000Z",
      }),
    );
    expect(decoded).toEqual({
      event: {
        type: "chunk",
        id: "e1",
        runId: "run-1",
        data: [1],
        index: 2,
        createdAt: new Date("2026-01-02T03:04:05.000Z"),
      },
    });
  });

  it("reports, never throws, a message that is not an event", () => {
    expect(decodeEvent("not json")).toEqual({ problem: "it is not JSON" });
    expect(decodeEvent("42")).toEqual({ problem: "it is not a JSON object" });
    expect(decodeEvent("[1]")).toEqual({ problem: "it is not a JSON object" });
    expect(decodeEvent("null")).toEqual({ problem: "it is not a JSON object" });
    expect(decodeEvent('{"data":1}')).toEqual({ problem: "it has no string type" });
  });

  it("reads __proto__ as a plain field, never as the prototype", () => {
    const decoded = decodeEvent('{"type":"chunk","__proto__":{"polluted":true}}');
    expect("event" in decoded && Object.getPrototypeOf(decoded.event)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
