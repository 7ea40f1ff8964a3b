import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { recordingLogger } from "@mastra/inngest-testing/helpers";
import { describe, expect, it, vi } from "vitest";
import { InngestPubSub } from "./inngest-pubsub.ts";
import type { InngestPubSubOptions } from "./inngest-pubsub-options.ts";

function v4Client(publish = vi.fn(async () => {})) {
  return {
    apiBaseUrl: "http://127.0.0.1:1",
    realtime: { publish, subscribe: vi.fn(), token: vi.fn() },
  };
}

function v3Client(publish = vi.fn(async (message: unknown) => message)) {
  return {
    apiBaseUrl: "http://127.0.0.1:1",
    realtime: { publish, getSubscriptionToken: vi.fn() },
  };
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return MastraInngestError.isInstance(error) ? error.code : "not a MastraInngestError";
  }
  return undefined;
}

describe("the client", () => {
  it("is detected as v4 from realtime.subscribe and realtime.token, and as v3 from realtime.getSubscriptionToken", () => {
    expect(new InngestPubSub(v4Client()).sdkMajor).toBe(4);
    expect(new InngestPubSub(v3Client()).sdkMajor).toBe(3);
  });

  it.each([
    ["undefined", undefined],
    ["an object without realtime", {}],
    ["a v3 client older than 3.50", { realtime: { publish: () => {} } }],
  ])("rejects %s with INVALID_OPTION naming inngest", (_name, client) => {
    expect(() => new InngestPubSub(client as never)).toThrow(/\[@mastra\/inngest-pubsub-realtime\] inngest must be/);
    expect(codeOf(() => new InngestPubSub(client as never))).toBe(ErrorCode.INVALID_OPTION);
  });

  it("declares its capabilities and no offsets", () => {
    const pubsub = new InngestPubSub(v4Client());
    expect(pubsub.capabilities).toEqual({ ordered: true, replay: false, crossProcess: true });
    expect(pubsub.supportsOffsets).toBe(false);
    expect(pubsub.supportedModes).toEqual(["push"]);
  });
});

describe("options", () => {
  it.each<[string, unknown]>([
    ["options", "fast"],
    ["logger", {}],
    ["logger.error", { warn() {}, error: "loud" }],
    ["publishTimeoutMs", 0],
    ["connectTimeoutMs", 0],
    ["connectTimeoutMs", 1.5],
    ["reconnectInitialDelayMs", -1],
    ["reconnectMaxDelayMs", "5s"],
    ["maxReconnectAttempts", -1],
    ["maxReconnectAttempts", Number.POSITIVE_INFINITY],
  ])("rejects a bad %s with INVALID_OPTION naming it", (field, value) => {
    const options = field === "options" ? value : field === "logger.error" ? { logger: value } : { [field]: value };
    expect(() => new InngestPubSub(v4Client(), options as InngestPubSubOptions)).toThrow(
      new RegExp(`\\] ${field.replace(".", "\\.")} must be`),
    );
    expect(codeOf(() => new InngestPubSub(v4Client(), options as InngestPubSubOptions))).toBe(ErrorCode.INVALID_OPTION);
  });

  it("rejects reconnectMaxDelayMs below reconnectInitialDelayMs", () => {
    expect(() => new InngestPubSub(v4Client(), { reconnectInitialDelayMs: 500, reconnectMaxDelayMs: 100 })).toThrow(
      /reconnectMaxDelayMs must be at least reconnectInitialDelayMs \(500\), got number 100/,
    );
  });

  it("accepts maxReconnectAttempts 0 and a logger with warn only", () => {
    expect(() => new InngestPubSub(v4Client(), { maxReconnectAttempts: 0, logger: { warn() {} } })).not.toThrow();
  });
});

describe("publish", () => {
  it("sends the whole event with a new id and createdAt to the topic's channel (v4)", async () => {
    const client = v4Client();
    const pubsub = new InngestPubSub(client);
    await pubsub.publish("agent.stream.run-1", { type: "chunk", runId: "run-1", data: { text: "hi" }, index: 3 });
    expect(client.realtime.publish).toHaveBeenCalledWith(
      { channel: "agent:run-1", topic: "stream", config: undefined },
      {
        type: "chunk",
        runId: "run-1",
        data: { text: "hi" },
        index: 3,
        id: expect.any(String),
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    );
  });

  it("sends { channel, topic, data } through a v3 client, a batch's data unchanged", async () => {
    const client = v3Client();
    const pubsub = new InngestPubSub(client);
    const batch = { kind: "mastra-inngest.batch", version: 1, events: [] };
    await pubsub.publish("jobs.progress", { type: "mastra-inngest.batch", runId: "run-1", data: batch });
    expect(client.realtime.publish).toHaveBeenCalledWith({
      channel: "topic:jobs.progress",
      topic: "events",
      data: expect.objectContaining({ type: "mastra-inngest.batch", data: batch }),
    });
  });

  it("rejects a bad topic with INVALID_ID and data that is not JSON with INVALID_MESSAGE, sending nothing", async () => {
    const client = v4Client();
    const pubsub = new InngestPubSub(client);
    await expect(pubsub.publish("agent.stream.bad id", { type: "chunk", runId: "r", data: {} })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ID,
    });
    await expect(pubsub.publish("jobs.x", { type: "chunk", runId: "r", data: { n: 1n } })).rejects.toMatchObject({
      code: ErrorCode.INVALID_MESSAGE,
    });
    expect(client.realtime.publish).not.toHaveBeenCalled();
  });

  it("logs a failed chunk with its run id and resolves", async () => {
    const logger = recordingLogger();
    const pubsub = new InngestPubSub(
      v4Client(vi.fn(async () => Promise.reject(new Error("Failed to publish event: 500")))),
      { logger },
    );
    await pubsub.publish("agent.stream.run-7", { type: "chunk", runId: "run-7", data: {} });
    expect(logger.warnings).toEqual([
      '[@mastra/inngest-pubsub-realtime] dropped a "chunk" event of run "run-7" on agent.stream.run-7: the publish failed',
    ]);
  });

  it.each<[string, string, string, unknown]>([
    ["finish", "agent.stream.run-1", "finish", {}],
    ["error", "agent.stream.run-1", "error", {}],
    ["abort", "agent.stream.run-1", "abort", {}],
    ["any control message", "agent.control.run-1", "cancel", {}],
    [
      "a batch holding a terminal event",
      "agent.stream.run-1",
      "mastra-inngest.batch",
      { kind: "mastra-inngest.batch", version: 1, events: [{ type: "chunk" }, { type: "finish" }] },
    ],
  ])("rejects a failed publish of %s with TRANSPORT_CLOSED", async (_name, topic, type, data) => {
    const cause = new Error("Failed to publish event: 500");
    const logger = recordingLogger();
    const pubsub = new InngestPubSub(v4Client(vi.fn(async () => Promise.reject(cause))), { logger });
    const failure = await pubsub.publish(topic, { type, runId: "run-1", data }).catch((error: unknown) => error);
    expect(MastraInngestError.isInstance(failure, ErrorCode.TRANSPORT_CLOSED)).toBe(true);
    expect((failure as Error).cause).toBe(cause);
    expect(logger.warnings).toEqual([]);
  });

  it("counts a publish Inngest has not accepted within publishTimeoutMs as failed", async () => {
    const logger = recordingLogger();
    const pubsub = new InngestPubSub(v4Client(vi.fn(() => new Promise<void>(() => {}))), {
      logger,
      publishTimeoutMs: 20,
    });
    await pubsub.publish("jobs.x", { type: "chunk", runId: "r", data: {} });
    expect(logger.warnings).toHaveLength(1);
    const failure = await pubsub
      .publish("agent.stream.r", { type: "finish", runId: "r", data: {} })
      .catch((error: unknown) => error);
    expect(MastraInngestError.isInstance(failure, ErrorCode.TRANSPORT_CLOSED)).toBe(true);
    expect(String((failure as Error).cause)).toMatch(/within 20 ms/);
    await pubsub.close();
  });

  it("waits in flush() for publishes in flight", async () => {
    let release: () => void = () => {};
    const publish = vi.fn(() => new Promise<void>((resolve) => (release = resolve)));
    const pubsub = new InngestPubSub(v4Client(publish));
    const publishing = pubsub.publish("jobs.x", { type: "x", runId: "r", data: {} });
    let flushed = false;
    const flushing = pubsub.flush().then(() => (flushed = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(flushed).toBe(false);
    release();
    await Promise.all([publishing, flushing]);
    expect(flushed).toBe(true);
  });
});

describe("subscribe", () => {
  it("rejects a bad topic, a group and a callback that is not a function before opening anything", async () => {
    const client = v4Client();
    const pubsub = new InngestPubSub(client);
    await expect(pubsub.subscribe("agent.control.", () => {})).rejects.toMatchObject({ code: ErrorCode.INVALID_ID });
    await expect(pubsub.subscribe("jobs.x", () => {}, { group: "workers" })).rejects.toThrow(/group must be absent/);
    await expect(pubsub.subscribe("jobs.x", "callback" as never)).rejects.toMatchObject({
      code: ErrorCode.INVALID_OPTION,
    });
    expect(client.realtime.subscribe).not.toHaveBeenCalled();
  });

  it("rejects with TRANSPORT_CLOSED when the WebSocket does not open within connectTimeoutMs", async () => {
    const client = v4Client();
    client.realtime.subscribe.mockReturnValue(new Promise(() => {}));
    const pubsub = new InngestPubSub(client, { connectTimeoutMs: 20 });
    const failure = await pubsub.subscribe("jobs.x", () => {}).catch((error: unknown) => error);
    expect(MastraInngestError.isInstance(failure, ErrorCode.TRANSPORT_CLOSED)).toBe(true);
    expect(String((failure as Error).cause)).toMatch(/did not open within 20 ms/);
  });
});

describe("close", () => {
  it("makes publish and subscribe reject with TRANSPORT_CLOSED, and can be called twice", async () => {
    const client = v4Client();
    const pubsub = new InngestPubSub(client);
    await pubsub.close();
    await pubsub.close();
    await expect(pubsub.publish("jobs.x", { type: "x", runId: "r", data: {} })).rejects.toMatchObject({
      code: ErrorCode.TRANSPORT_CLOSED,
    });
    await expect(pubsub.subscribe("jobs.x", () => {})).rejects.toMatchObject({ code: ErrorCode.TRANSPORT_CLOSED });
    expect(client.realtime.publish).not.toHaveBeenCalled();
  });
});
