import { ErrorCode, MastraInngestError, streamTopic } from "@mastra/inngest-core";
import { describe, expect, it } from "vitest";
import { realtimeAddressOf, runChannel } from "./channels.ts";

describe("realtimeAddressOf", () => {
  it.each([
    ["agent.stream.run-1", { channel: "agent:run-1", topic: "stream" }],
    ["agent.control.run-1", { channel: "agent:run-1", topic: "control" }],
    ["agent.stream.a:b.c", { channel: "agent:a:b.c", topic: "stream" }],
    ["jobs.progress", { channel: "topic:jobs.progress", topic: "events" }],
    ["agent:run-1", { channel: "topic:agent:run-1", topic: "events" }],
    ["agent.streams.run-1", { channel: "topic:agent.streams.run-1", topic: "events" }],
  ])("maps %s to %o", (topic, address) => {
    expect(realtimeAddressOf(topic)).toEqual(address);
  });

  it("never maps two different topics to the same channel and topic", () => {
    const ids = ["run-1", "run", "1", "a:b", "a.b", "stream", "control", "topic:x", "agent:x", "x.stream.y"];
    const topics = new Set<string>();
    for (const id of ids) {
      topics.add(streamTopic(id));
      topics.add(`agent.control.${id}`);
      topics.add(id);
      topics.add(`topic:${id}`);
      topics.add(`agent:${id}`);
      topics.add(`agent.${id}`);
      topics.add(`${id}.stream`);
    }
    const addresses = new Map<string, string>();
    for (const topic of topics) {
      const { channel, topic: realtimeTopic } = realtimeAddressOf(topic);
      const key = JSON.stringify([channel, realtimeTopic]);
      expect(addresses.get(key), `${topic} collides`).toBeUndefined();
      addresses.set(key, topic);
    }
    expect(addresses.size).toBe(topics.size);
  });

  it.each([
    "",
    "agent.stream.",
    "agent.stream.bad id",
    "agent.control.*",
    "jobs/progress",
    "jobs progress",
    ".leading-dot",
    "x".repeat(257),
    "line\nbreak",
  ])("rejects %j with INVALID_ID", (topic) => {
    expect(() => realtimeAddressOf(topic)).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_ID, message: expect.stringContaining("topic") }),
    );
  });
});

describe("runChannel", () => {
  it("is agent:<runId>", () => {
    expect(runChannel("01J00000000000000000000000")).toBe("agent:01J00000000000000000000000");
  });

  it.each(["", "a b", "{run}", "*", "r".repeat(129)])("rejects the run id %j with INVALID_ID naming runId", (runId) => {
    let caught: unknown;
    try {
      runChannel(runId);
    } catch (error) {
      caught = error;
    }
    expect(MastraInngestError.isInstance(caught, ErrorCode.INVALID_ID)).toBe(true);
    expect((caught as Error).message).toMatch(/^\[@mastra\/inngest-pubsub-realtime\] runId must match/);
  });
});
