import { InMemoryServerCache } from "@mastra/core/cache";
import { type Event, EventEmitterPubSub } from "@mastra/core/events";
import {
  ATTEMPT_SUPERSEDED_EVENT_TYPE,
  ErrorCode,
  EVENT_BATCH_KIND,
  MastraInngestError,
  OFFSET_EXPIRED_EVENT_TYPE,
  type ProducerKey,
} from "@mastra/inngest-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CachingPubSub } from "./caching-pubsub.ts";
import type { CachingPubSubOptions } from "./caching-pubsub-options.ts";
import { InMemoryStreamCache } from "./in-memory-stream-cache.ts";

const topic = "agent.stream.run-1";
const opened: CachingPubSub[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((pubsub) => pubsub.close()));
});

function create(
  options: CachingPubSubOptions = {},
  cache = new InMemoryStreamCache(),
  inner = new EventEmitterPubSub(),
) {
  const pubsub = new CachingPubSub(inner, cache, { idleRecheckMs: 0, ...options });
  opened.push(pubsub);
  return { pubsub, cache, inner };
}

function collector(): { events: Event[]; callback: (event: Event) => void } {
  const events: Event[] = [];
  return { events, callback: (event) => void events.push(event) };
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error("condition not met in time");
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function chunk(text: string, producer?: ProducerKey) {
  return {
    type: "chunk",
    runId: "run-1",
    data: { type: "text-delta", payload: { text } },
    ...(producer ? { producer } : {}),
  };
}

const texts = (events: Event[]): unknown[] =>
  events
    .filter((event) => event.type === "chunk")
    .map((event) => (event.data as { payload: { text: string } }).payload.text);

describe("CachingPubSub", () => {
  it("indexes events from 0, replays them to a late subscriber, then delivers live ones once each", async () => {
    const { pubsub } = create();
    for (let index = 0; index < 5; index++) {
      await pubsub.publish(topic, chunk(`c${index}`));
    }
    await pubsub.flush();
    const late = collector();
    await pubsub.subscribeWithReplay(topic, late.callback);
    expect(late.events.map((event) => event.index)).toEqual([0, 1, 2, 3, 4]);
    await pubsub.publish(topic, chunk("c5"));
    await pubsub.publish(topic, { type: "finish", runId: "run-1", data: {} });
    await until(() => late.events.length === 7);
    expect(late.events.map((event) => event.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(texts(late.events)).toEqual(["c0", "c1", "c2", "c3", "c4", "c5"]);
    expect(late.events[0]?.createdAt).toBeInstanceOf(Date);
  });

  it("replays exactly from an offset, and 'latest' gives the tail only", async () => {
    const { pubsub } = create();
    for (let index = 0; index < 6; index++) {
      await pubsub.publish(topic, chunk(`c${index}`));
    }
    await pubsub.flush();
    const fromFour = collector();
    const tail = collector();
    await pubsub.subscribeFromOffset(topic, 4, fromFour.callback);
    await pubsub.subscribeFromOffset(topic, "latest", tail.callback);
    await pubsub.publish(topic, chunk("c6"));
    await pubsub.flush();
    await until(() => fromFour.events.length === 3 && tail.events.length === 1);
    expect(fromFour.events.map((event) => event.index)).toEqual([4, 5, 6]);
    expect(tail.events.map((event) => event.index)).toEqual([6]);
  });

  it("stores and delivers a publish repeated with the same producer key once", async () => {
    const { pubsub } = create();
    const live = collector();
    await pubsub.subscribe(topic, live.callback);
    const producer = { stepId: "llm:0", attempt: 0, sequence: 0 };
    await pubsub.publish(topic, chunk("once", producer));
    await pubsub.publish(topic, chunk("once", producer));
    await pubsub.publish(topic, chunk("next", { ...producer, sequence: 1 }));
    await pubsub.flush();
    await until(() => live.events.length === 2);
    expect(texts(live.events)).toEqual(["once", "next"]);
    expect((await pubsub.getHistory(topic)).map((event) => event.index)).toEqual([0, 1]);
  });

  it("batches queued publishes into one append and one inner message", async () => {
    const { pubsub, inner } = create({ batchWindowMs: 50 });
    const innerPublish = vi.spyOn(inner, "publish");
    for (let index = 0; index < 20; index++) {
      await pubsub.publish(topic, chunk(`c${index}`));
    }
    expect(innerPublish).not.toHaveBeenCalled();
    await pubsub.flush();
    expect(innerPublish).toHaveBeenCalledTimes(1);
    const [, message] = innerPublish.mock.calls[0] ?? [];
    expect(message?.type).toBe(EVENT_BATCH_KIND);
    expect((message?.data as { events: unknown[] }).events).toHaveLength(20);
  });

  it("flushes a terminal event at once and resolves its publish only once it is stored and sent", async () => {
    const { pubsub, inner } = create({ batchWindowMs: 10_000 });
    const innerPublish = vi.spyOn(inner, "publish");
    await pubsub.publish(topic, chunk("before"));
    await pubsub.publish(topic, { type: "finish", runId: "run-1", data: {} });
    expect(innerPublish).toHaveBeenCalledTimes(1);
    expect((await pubsub.getHistory(topic)).map((event) => event.type)).toEqual(["chunk", "finish"]);
  });

  it("publishes one event per message when batching is off", async () => {
    const { pubsub, inner } = create({ batching: false });
    const innerPublish = vi.spyOn(inner, "publish");
    await pubsub.publish(topic, chunk("a"));
    await pubsub.publish(topic, chunk("b"));
    expect(innerPublish).toHaveBeenCalledTimes(2);
  });
});
