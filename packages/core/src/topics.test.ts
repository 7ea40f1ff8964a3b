import { randomUUID } from "node:crypto";
import { AGENT_CONTROL_TOPIC, AGENT_STREAM_TOPIC } from "@mastra/core/agent/durable";
import { describe, expect, it } from "vitest";
import { ErrorCode } from "./error-codes.ts";
import { MastraInngestError } from "./mastra-inngest-error.ts";
import { assertValidTopic, controlTopic, parseRunTopic, streamTopic } from "./topics.ts";

describe("run topics", () => {
  it("use the names of @mastra/core, so its stream adapter and abort transport read them unchanged", () => {
    const runId = randomUUID();
    expect(streamTopic(runId)).toBe(AGENT_STREAM_TOPIC(runId));
    expect(controlTopic(runId)).toBe(AGENT_CONTROL_TOPIC(runId));
  });

  it.each(["", "a b", "{x}", "*", "a\r\nb", "__proto__"])("refuse the run id %j", (runId) => {
    expect(() => streamTopic(runId)).toThrow(/runId must match/);
    expect(() => controlTopic(runId)).toThrow(/runId must match/);
  });

  it("parse back into kind and run id", () => {
    expect(parseRunTopic("agent.stream.run-1")).toEqual({ kind: "stream", runId: "run-1" });
    expect(parseRunTopic("agent.control.a.b")).toEqual({ kind: "control", runId: "a.b" });
    expect(parseRunTopic("agent.stream.")).toBeUndefined();
    expect(parseRunTopic("agent.stream.a b")).toBeUndefined();
    expect(parseRunTopic("workflow.events.v2.x")).toBeUndefined();
  });
});

describe("assertValidTopic", () => {
  it.each(["agent.stream.run-1", "agent.control.run-1", "workflow.events.v2.run-1", "custom:topic_1"])(
    "accepts %j",
    (topic) => {
      expect(assertValidTopic(topic)).toBe(topic);
    },
  );

  it.each([
    ["empty", ""],
    ["run prefix without an id", "agent.stream."],
    ["run prefix with a bad id", "agent.stream._x"],
    ["wildcard", "agent.stream.*"],
    ["brace", "agent.{x}"],
    ["newline", "a\nb"],
    ["space", "my topic"],
    ["257 characters", `a${"b".repeat(256)}`],
    ["not a string", 7],
  ])("rejects %s", (_name, topic) => {
    let thrown: unknown;
    try {
      assertValidTopic(topic, "topic");
    } catch (error) {
      thrown = error;
    }
    expect(MastraInngestError.isInstance(thrown, ErrorCode.INVALID_ID)).toBe(true);
    expect((thrown as Error).message).toMatch(/^\[@mastra\/inngest-core\] topic must match/);
  });
});
