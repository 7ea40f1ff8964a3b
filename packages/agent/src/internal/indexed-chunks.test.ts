import { EVENTS_LOST_EVENT_TYPE } from "@mastra/inngest-core";
import { describe, expect, it } from "vitest";
import { noticeChunk } from "./indexed-chunks.ts";

describe("noticeChunk", () => {
  it("passes an events-lost notice on as a data chunk with its index, and ignores other events", () => {
    const data = { firstLostIndex: 5, lastLostIndex: 7 };
    expect(noticeChunk({ type: EVENTS_LOST_EVENT_TYPE, index: 6, data } as never, "run-1")).toEqual({
      type: "data-events-lost",
      runId: "run-1",
      from: "AGENT",
      data,
      metadata: { eventIndex: 6 },
    });
    expect(noticeChunk({ type: "chunk", index: 1, data: {} } as never, "run-1")).toBeUndefined();
  });
});
