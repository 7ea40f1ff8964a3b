import type { Event } from "@mastra/core/events";
import { createEventBatch, EVENT_BATCH_KIND } from "@mastra/inngest-core";
import { type RedisServer, startRedis } from "@mastra/inngest-testing";
import { recordingLogger, until } from "@mastra/inngest-testing/helpers";
import { describePubSubConformance } from "@mastra/inngest-testing/pubsub";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RedisPubSub } from "./redis-pubsub.ts";

let redis: RedisServer;
let url = "";

beforeAll(async () => {
  redis = await startRedis();
  url = redis.url;
});

afterAll(async () => {
  await redis.kill();
});

describePubSubConformance({
  name: "RedisPubSub",
  capabilities: { ordered: true, crossProcess: true },
  create: ({ namespace }) => new RedisPubSub({ url, channelPrefix: `${namespace}:` }),
});

describe("RedisPubSub wire format", () => {
  const opened: Array<{ close(): unknown }> = [];
  const logger = recordingLogger();

  afterEach(async () => {
    for (const resource of opened.splice(0)) {
      await resource.close();
    }
    logger.warnings.length = 0;
  });

  function open(): { pubsub: RedisPubSub; raw: Redis } {
    const pubsub = new RedisPubSub({ url, channelPrefix: "wire:", logger });
    const raw = new Redis(url);
    opened.push(pubsub, { close: () => raw.disconnect() });
    return { pubsub, raw };
  }

  it("publishes the event as JSON with its fields, a new id and an ISO createdAt on prefix + topic", async () => {
    const { pubsub, raw } = open();
    const messages: Array<[string, string]> = [];
    raw.on("message", (channel: string, message: string) => messages.push([channel, message]));
    await raw.subscribe("wire:agent.stream.run-1");
    await pubsub.publish("agent.stream.run-1", { type: "chunk", runId: "run-1", data: { text: "hi" }, index: 3 });
    await until(() => messages.length === 1, { timeoutMs: 5000, intervalMs: 10 });
    const [channel, message] = messages[0] as [string, string];
    expect(channel).toBe("wire:agent.stream.run-1");
    const parsed = JSON.parse(message);
    expect(parsed).toMatchObject({ type: "chunk", runId: "run-1", data: { text: "hi" }, index: 3 });
    expect(typeof parsed.id).toBe("string");
    expect(new Date(parsed.createdAt).toISOString()).toBe(parsed.createdAt);
  });

  it("delivers createdAt as a Date, and drops and logs a message that is not an event", async () => {
    const { pubsub, raw } = open();
    const received: Event[] = [];
    await pubsub.subscribe("topic", (event) => {
      received.push(event);
    });
    await raw.publish("wire:topic", "not json");
    await raw.publish("wire:topic", "[1,2]");
    await pubsub.publish("topic", { type: "after", runId: "run-1", data: null });
    await until(() => received.length === 1, { timeoutMs: 5000, intervalMs: 10 });
    expect(received[0]?.type).toBe("after");
    expect(received[0]?.createdAt).toBeInstanceOf(Date);
    expect(
      logger.warnings.filter((warning) => warning.includes('dropped a message on channel "wire:topic"')),
    ).toHaveLength(2);
  });

  it("delivers a batch another Redis client published in the same form, as a cache announcing a stored batch does", async () => {
    const { pubsub, raw } = open();
    const received: Event[] = [];
    await pubsub.subscribe("agent.stream.run-2", (event) => {
      received.push(event);
    });
    const stored = [0, 1].map((index) => ({
      type: "chunk",
      id: `event-${index}`,
      runId: "run-2",
      data: { index },
      createdAt: new Date(),
      index,
    }));
    const batch = createEventBatch(stored);
    const message = { type: EVENT_BATCH_KIND, id: "batch-1", runId: "run-2", data: batch, createdAt: new Date() };
    await raw.publish("wire:agent.stream.run-2", JSON.stringify(message));
    await until(() => received.length === 1, { timeoutMs: 5000, intervalMs: 10 });
    expect(received[0]).toEqual(message);
    expect(received[0]?.data).toEqual(batch);
  });

  it("keeps delivering to other callbacks when one throws or rejects, and logs both", async () => {
    const { pubsub } = open();
    const received: string[] = [];
    await pubsub.subscribe("topic", () => {
      throw new Error("sync failure");
    });
    await pubsub.subscribe("topic", async () => {
      throw new Error("async failure");
    });
    await pubsub.subscribe("topic", (event) => {
      received.push(event.type);
    });
    await pubsub.publish("topic", { type: "one", runId: "run-1", data: null });
    await pubsub.publish("topic", { type: "two", runId: "run-1", data: null });
    await until(() => received.length === 2, { timeoutMs: 5000, intervalMs: 10 });
    expect(received).toEqual(["one", "two"]);
    await until(() => logger.warnings.length === 4, { timeoutMs: 5000, intervalMs: 10 });
    expect(logger.warnings.every((warning) => warning.includes('a subscriber of channel "wire:topic" threw'))).toBe(
      true,
    );
  });
});
