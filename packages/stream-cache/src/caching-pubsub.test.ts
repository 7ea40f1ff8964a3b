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
import { silentLogger, until } from "@mastra/inngest-testing/helpers";
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
  // Failures these tests provoke on purpose are reported to the logger; keep them out of the output.
  const pubsub = new CachingPubSub(inner, cache, { idleRecheckMs: 0, logger: silentLogger, ...options });
  opened.push(pubsub);
  return { pubsub, cache, inner };
}

function collector(): { events: Event[]; callback: (event: Event) => void } {
  const events: Event[] = [];
  return { events, callback: (event) => void events.push(event) };
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
  it("inspect() tells where each subscription to a topic is: next index, ended, closed, next re-read", async () => {
    const { pubsub } = create({ idleRecheckMs: 60_000 });
    await pubsub.publish(topic, chunk("a"));
    await pubsub.flush();
    const following = collector();
    const ending = collector();
    await pubsub.subscribeFromOffset(topic, 0, following.callback);
    await pubsub.subscribeFromOffset(topic, 1, ending.callback);
    expect(pubsub.inspect(topic)).toEqual([
      expect.objectContaining({ nextIndex: 1, bootstrapped: true, ended: false, closed: false, pendingEvents: 0 }),
      expect.objectContaining({ nextIndex: 1, bootstrapped: true, ended: false, closed: false, pendingEvents: 0 }),
    ]);
    const [state] = pubsub.inspect(topic);
    expect(state?.nextRecheckInMs).toBeGreaterThan(0);
    expect(state?.nextRecheckInMs).toBeLessThanOrEqual(60_000 / 16);
    await pubsub.publish(topic, { type: "finish", runId: "run-1", data: {} });
    await until(() => ending.events.length === 1);
    expect(pubsub.inspect(topic).map((subscription) => [subscription.nextIndex, subscription.ended])).toEqual([
      [2, true],
      [2, true],
    ]);
    // An ended subscription re-reads nothing.
    expect(pubsub.inspect(topic)[0]?.nextRecheckInMs).toBeUndefined();
    await pubsub.unsubscribe(topic, following.callback);
    expect(pubsub.inspect(topic)).toHaveLength(1);
    expect(pubsub.inspect("agent.stream.other")).toEqual([]);
  });

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
    await until(() => late.events.length === 7, { timeoutMs: 5_000, intervalMs: 2 });
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
    await until(() => fromFour.events.length === 3 && tail.events.length === 1, { timeoutMs: 5_000, intervalMs: 2 });
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
    await until(() => live.events.length === 2, { timeoutMs: 5_000, intervalMs: 2 });
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
    expect((message?.data as { events: unknown[] } | undefined)?.events).toHaveLength(20);
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

/** Publishes `count` chunks as one attempt of a step, numbered from `from`. */
async function publishAttempt(pubsub: CachingPubSub, attempt: number, count: number, label: string): Promise<void> {
  for (let sequence = 0; sequence < count; sequence++) {
    await pubsub.publish(topic, chunk(`${label}${sequence}`, { stepId: "llm:0", attempt, sequence }));
  }
}

describe("a step retried after publishing part of its stream", () => {
  it("gives live observers a notice before the new attempt, and replays only the new attempt", async () => {
    const { pubsub } = create();
    const live = collector();
    await pubsub.subscribeWithReplay(topic, live.callback);
    // Attempt 0 publishes its 50 chunks, then the step fails and is retried.
    await publishAttempt(pubsub, 0, 50, "first-");
    await pubsub.flush();
    await publishAttempt(pubsub, 1, 50, "");
    await pubsub.publish(topic, { type: "finish", runId: "run-1", data: {} });
    await until(() => live.events.some((event) => event.type === "finish"), { timeoutMs: 5_000, intervalMs: 2 });

    const expected = Array.from({ length: 50 }, (_, sequence) => `${sequence}`);
    const noticeAt = live.events.findIndex((event) => event.type === ATTEMPT_SUPERSEDED_EVENT_TYPE);
    expect(noticeAt).toBe(50);
    expect(live.events[noticeAt]?.data).toEqual({ stepId: "llm:0", attempt: 1, supersededAttempt: 0 });
    // After the notice, the live observer sees the logical stream once.
    expect(texts(live.events.slice(noticeAt + 1))).toEqual(expected);

    const replay = collector();
    await pubsub.subscribeWithReplay(topic, replay.callback);
    expect(replay.events.some((event) => event.type === ATTEMPT_SUPERSEDED_EVENT_TYPE)).toBe(false);
    expect(texts(replay.events)).toEqual(expected);
    expect(replay.events.at(-1)?.type).toBe("finish");
    expect(texts(await pubsub.getHistory(topic))).toEqual(expected);
  });

  it("drops late events of the superseded attempt (a zombie worker) instead of storing them", async () => {
    const { pubsub } = create();
    await publishAttempt(pubsub, 1, 3, "new-");
    await publishAttempt(pubsub, 0, 3, "old-");
    await pubsub.flush();
    expect(texts(await pubsub.getHistory(topic))).toEqual(["new-0", "new-1", "new-2"]);
  });

  it("gives a subscriber resuming mid-stream the notice, since it may hold older events", async () => {
    const { pubsub } = create();
    await publishAttempt(pubsub, 0, 5, "first-");
    await pubsub.flush();
    const resumed = collector();
    await pubsub.subscribeFromOffset(topic, 3, resumed.callback);
    await publishAttempt(pubsub, 1, 2, "");
    await pubsub.flush();
    await until(() => texts(resumed.events).includes("1"), { timeoutMs: 5_000, intervalMs: 2 });
    expect(resumed.events.map((event) => (event.type === "chunk" ? texts([event])[0] : event.type))).toEqual([
      "first-3",
      "first-4",
      ATTEMPT_SUPERSEDED_EVENT_TYPE,
      "0",
      "1",
    ]);
  });
});

describe("offsets the history cannot serve", () => {
  it("an offset older than what is kept yields an offset-expired notice first, with the first offset available", async () => {
    const { pubsub } = create({}, new InMemoryStreamCache({ maxListLength: 5 }));
    for (let index = 0; index < 10; index++) {
      await pubsub.publish(topic, chunk(`c${index}`));
    }
    await pubsub.flush();
    const observer = collector();
    await pubsub.subscribeFromOffset(topic, 2, observer.callback);
    expect(observer.events[0]?.type).toBe(OFFSET_EXPIRED_EVENT_TYPE);
    expect(observer.events[0]?.data).toEqual({ requestedOffset: 2, firstAvailableOffset: 5 });
    expect(observer.events.slice(1).map((event) => event.index)).toEqual([5, 6, 7, 8, 9]);
  });

  it("an offset into history that was cleared yields the notice rather than a silent replay from zero", async () => {
    const { pubsub } = create();
    await pubsub.publish(topic, chunk("gone"));
    await pubsub.flush();
    await pubsub.clearTopic(topic);
    const observer = collector();
    await pubsub.subscribeFromOffset(topic, 1, observer.callback);
    expect(observer.events.map((event) => event.type)).toEqual([OFFSET_EXPIRED_EVENT_TYPE]);
  });

  it("an offset past the end waits for live events and does not take the stored terminal event as data", async () => {
    const { pubsub } = create({ idleRecheckMs: 50 });
    await pubsub.publish(topic, chunk("c0"));
    await pubsub.publish(topic, { type: "finish", runId: "run-1", data: {} });
    const observer = collector();
    await pubsub.subscribeFromOffset(topic, 5, observer.callback);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(observer.events).toEqual([]);
  });

  it("rejects negative, fractional and non-numeric offsets with INVALID_OFFSET", async () => {
    const { pubsub } = create();
    for (const offset of [-1, 1.5, Number.NaN, "3" as unknown as number]) {
      await expect(pubsub.subscribeFromOffset(topic, offset, () => {})).rejects.toSatisfy((error) =>
        MastraInngestError.isInstance(error, ErrorCode.INVALID_OFFSET),
      );
    }
  });
});

describe("failures and limits", () => {
  it("a failed cache write is an error to the caller, and nothing is published without an index", async () => {
    const cache = new InMemoryStreamCache();
    const { pubsub, inner } = create({}, cache);
    const innerPublish = vi.spyOn(inner, "publish");
    vi.spyOn(cache, "appendIndexed").mockRejectedValue(new Error("cache down"));
    await pubsub.publish(topic, chunk("lost"));
    await expect(pubsub.flush()).rejects.toThrow("cache down");
    await expect(pubsub.publish(topic, { type: "finish", runId: "run-1", data: {} })).rejects.toThrow("cache down");
    expect(innerPublish).not.toHaveBeenCalled();
  });

  it("without retries, later publishes are refused after a failed write until flush() has reported it", async () => {
    const cache = new InMemoryStreamCache();
    const { pubsub } = create({ batchWindowMs: 0, writeRetries: 0 }, cache);
    const append = vi.spyOn(cache, "appendIndexed").mockRejectedValueOnce(new Error("blip"));
    await pubsub.publish(topic, chunk("a"));
    await until(() => append.mock.calls.length === 1, { timeoutMs: 5_000, intervalMs: 2 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await expect(pubsub.publish(topic, chunk("b"))).rejects.toSatisfy(
      (error) => MastraInngestError.isInstance(error, ErrorCode.TRANSPORT_CLOSED) && /blip/.test(error.message),
    );
    await expect(pubsub.flush()).rejects.toThrow("blip");
    await pubsub.publish(topic, chunk("c"));
    await pubsub.flush();
    expect(texts(await pubsub.getHistory(topic))).toEqual(["c"]);
  });

  it("refuses an event over maxEventBytes with PAYLOAD_TOO_LARGE, keeping what was accepted", async () => {
    const { pubsub } = create({ maxEventBytes: 1_000 });
    await pubsub.publish(topic, chunk("small"));
    await expect(pubsub.publish(topic, chunk("x".repeat(2_000)))).rejects.toSatisfy((error) =>
      MastraInngestError.isInstance(error, ErrorCode.PAYLOAD_TOO_LARGE),
    );
    await pubsub.flush();
    expect(texts(await pubsub.getHistory(topic))).toEqual(["small"]);
  });

  it("refuses events past maxEventsPerTopic with LIMIT_EXCEEDED, but still stores a terminal event", async () => {
    const { pubsub } = create({ maxEventsPerTopic: 3, batching: false });
    for (let index = 0; index < 3; index++) {
      await pubsub.publish(topic, chunk(`c${index}`));
    }
    await expect(pubsub.publish(topic, chunk("over"))).rejects.toSatisfy((error) =>
      MastraInngestError.isInstance(error, ErrorCode.LIMIT_EXCEEDED),
    );
    await pubsub.flush().catch(() => {});
    await pubsub.publish(topic, {
      type: "error",
      runId: "run-1",
      data: { error: { name: "Error", message: "too long" } },
    });
    expect((await pubsub.getHistory(topic)).map((event) => event.type)).toEqual(["chunk", "chunk", "chunk", "error"]);
  });

  it("holds publishes back once maxQueuedEvents wait to be stored, and lets them through as the cache catches up", async () => {
    const cache = new InMemoryStreamCache();
    const { pubsub } = create({ maxQueuedEvents: 5, maxBatchEvents: 2 }, cache);
    let release: () => void = () => {};
    const stuck = new Promise<void>((resolve) => {
      release = resolve;
    });
    const append = cache.appendIndexed.bind(cache);
    vi.spyOn(cache, "appendIndexed").mockImplementation(async (request) => {
      await stuck;
      return append(request);
    });
    for (let index = 0; index < 5; index++) {
      await pubsub.publish(topic, chunk(`c${index}`));
    }
    let accepted = false;
    const sixth = pubsub.publish(topic, chunk("c5")).then(() => {
      accepted = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(accepted).toBe(false);
    release();
    await sixth;
    await pubsub.flush();
    expect(texts(await pubsub.getHistory(topic))).toEqual(["c0", "c1", "c2", "c3", "c4", "c5"]);
  });

  it("rejects publishes waiting for room when the write ahead of them fails", async () => {
    const cache = new InMemoryStreamCache();
    const { pubsub } = create({ maxQueuedEvents: 2, maxBatchEvents: 2 }, cache);
    vi.spyOn(cache, "appendIndexed").mockImplementation(
      () => new Promise((_resolve, reject) => setTimeout(() => reject(new Error("unreachable")), 30)),
    );
    await pubsub.publish(topic, chunk("a"));
    await pubsub.publish(topic, chunk("b"));
    await expect(pubsub.publish(topic, chunk("c"))).rejects.toThrow("unreachable");
    await expect(pubsub.flush()).rejects.toThrow("unreachable");
  });

  it("reads history in pages, so a long replay never loads it all at once", async () => {
    const cache = new InMemoryStreamCache();
    const { pubsub } = create({ historyPageSize: 100, maxBatchEvents: 500 }, cache);
    for (let index = 0; index < 2_000; index++) {
      await pubsub.publish(topic, chunk(`c${index}`));
    }
    await pubsub.flush();
    const read = vi.spyOn(cache, "listFromTo");
    const observer = collector();
    await pubsub.subscribeWithReplay(topic, observer.callback);
    expect(observer.events).toHaveLength(2_000);
    for (const [, from, to] of read.mock.calls) {
      expect((to ?? Number.POSITIVE_INFINITY) - from + 1).toBeLessThanOrEqual(100);
    }
  });

  it("rejects bad options naming the field", () => {
    expect(() => new CachingPubSub(new EventEmitterPubSub(), new InMemoryStreamCache(), { batchWindowMs: -1 })).toThrow(
      /batchWindowMs must be a non-negative integer, got number -1/,
    );
    expect(() => new CachingPubSub(new EventEmitterPubSub(), new InMemoryStreamCache(), { keyPrefix: "{x}" })).toThrow(
      /keyPrefix must match/,
    );
  });

  it("rejects topics with glob characters, braces or a bad run id", async () => {
    const { pubsub } = create();
    await expect(pubsub.publish("agent.stream.*", chunk("x"))).rejects.toThrow(/topic must match/);
    await expect(pubsub.subscribeWithReplay("agent.stream.{x}", () => {})).rejects.toThrow(/topic must match/);
  });
});

describe("lifecycle", () => {
  it("close() flushes, stops delivery, is safe twice, and publish afterwards rejects with TRANSPORT_CLOSED", async () => {
    const { pubsub } = create({ batchWindowMs: 10_000 });
    await pubsub.publish(topic, chunk("queued"));
    await pubsub.close();
    await pubsub.close();
    expect(texts(await pubsub.getHistory(topic))).toEqual(["queued"]);
    await expect(pubsub.publish(topic, chunk("late"))).rejects.toSatisfy((error) =>
      MastraInngestError.isInstance(error, ErrorCode.TRANSPORT_CLOSED),
    );
  });

  it("unsubscribe stops one callback and keeps the others", async () => {
    const { pubsub } = create({ batching: false });
    const first = collector();
    const second = collector();
    await pubsub.subscribe(topic, first.callback);
    await pubsub.subscribe(topic, second.callback);
    await pubsub.publish(topic, chunk("both"));
    await until(() => first.events.length === 1 && second.events.length === 1, { timeoutMs: 5_000, intervalMs: 2 });
    await pubsub.unsubscribe(topic, first.callback);
    await pubsub.publish(topic, chunk("second only"));
    await until(() => second.events.length === 2, { timeoutMs: 5_000, intervalMs: 2 });
    expect(first.events).toHaveLength(1);
  });

  it("clearTopic removes the stored history at once", async () => {
    const { pubsub } = create();
    await pubsub.publish(topic, chunk("c"));
    await pubsub.flush();
    await pubsub.clearTopic(topic);
    expect(await pubsub.getHistory(topic)).toEqual([]);
  });

  it("keeps a suspended run's history at least suspendedTtlMs, and retain() extends it", async () => {
    const cache = new InMemoryStreamCache();
    const { pubsub } = create({ ttlMs: 50, suspendedTtlMs: 10_000 }, cache);
    await pubsub.publish(topic, chunk("asked"));
    await pubsub.publish(topic, { type: "suspended", runId: "run-1", data: { type: "approval" } });
    await pubsub.flush();
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(texts(await pubsub.getHistory(topic))).toEqual(["asked"]);
    const other = "agent.stream.run-2";
    await pubsub.publish(other, chunk("short"));
    await pubsub.flush();
    await pubsub.retain(other, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(texts(await pubsub.getHistory(other))).toEqual(["short"]);
  });

  it("expires a topic's history after its TTL", async () => {
    const { pubsub } = create({ ttlMs: 50 });
    await pubsub.publish(topic, chunk("brief"));
    await pubsub.flush();
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await pubsub.getHistory(topic)).toEqual([]);
  });
});

describe("with a cache that lacks the stream capabilities (@mastra/core's InMemoryServerCache)", () => {
  it("falls back to listPushIndexed and still replays in order, deduplicating within the process", async () => {
    const { pubsub } = create({}, new InMemoryServerCache() as unknown as InMemoryStreamCache);
    const producer = { stepId: "llm:0", attempt: 0, sequence: 0 };
    await pubsub.publish(topic, chunk("a", producer));
    await pubsub.publish(topic, chunk("a", producer));
    await pubsub.publish(topic, chunk("b", { ...producer, sequence: 1 }));
    await pubsub.flush();
    const replay = collector();
    await pubsub.subscribeWithReplay(topic, replay.callback);
    expect(texts(replay.events)).toEqual(["a", "b"]);
    expect(replay.events.map((event) => event.index)).toEqual([0, 1]);
  });
});

describe("with a cache that is not shared across processes", () => {
  it("each process numbers what it receives into its own history, so replay works there", async () => {
    // Two processes: one shared transport, one in-memory cache each.
    const transport = new EventEmitterPubSub();
    const worker = create({ batching: false }, new InMemoryStreamCache(), transport).pubsub;
    const caller = create({ batching: false }, new InMemoryStreamCache(), transport).pubsub;
    expect(caller.crossProcess).toBe(false);
    const live = collector();
    await caller.subscribeWithReplay(topic, live.callback);
    for (let index = 0; index < 5; index++) {
      await worker.publish(topic, chunk(`c${index}`, { stepId: "llm:0", attempt: 0, sequence: index }));
    }
    await until(() => live.events.length === 5, { timeoutMs: 5_000, intervalMs: 2 });
    expect(live.events.map((event) => event.index)).toEqual([0, 1, 2, 3, 4]);
    const late = collector();
    await caller.subscribeFromOffset(topic, 2, late.callback);
    expect(texts(late.events)).toEqual(["c2", "c3", "c4"]);
  });
});
