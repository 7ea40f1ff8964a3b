import type { Event, PubSub } from "@mastra/core/events";
import { EVENT_BATCH_KIND } from "@mastra/inngest-core";
import { RedisPubSub } from "@mastra/inngest-pubsub-redis";
import { CachingPubSub, type CachingPubSubOptions } from "@mastra/inngest-stream-cache";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { type RedisServer, startRedis } from "@mastra/inngest-testing";
import { DroppingPubSub, silentLogger, until } from "@mastra/inngest-testing/helpers";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";

/**
 * @see issue #18, item 8: in the fault suite an observer from offset 2 missed index 61, the
 * terminal event, and never ended. Here, on the all-Redis topology, exactly that delivery is lost
 * on its way to the observer's process: nothing later reveals the gap, so only the observer's
 * re-read of history can find the event.
 */

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.kill();
});

/** The events a transport message carries, as `[index, type]`. */
function carried(message: Event): Array<[number | undefined, string]> {
  const events =
    message.type === EVENT_BATCH_KIND
      ? (message.data as { events: Array<{ index?: number; type: string }> }).events
      : [message as { index?: number; type: string }];
  return events.map((event) => [event.index, event.type]);
}

const carriesFinish = (message: Event): boolean => carried(message).some(([, type]) => type === "finish");

/** A `RedisStreamCache` whose reads of a topic's events fail while `failReads` is above zero. */
class UnreadableRedisCache extends RedisStreamCache {
  failReads = 0;
  failedReads = 0;

  override async listFromTo(key: string, from: number, to?: number): Promise<unknown[]> {
    if (this.failReads > 0 && key.endsWith(":events")) {
      this.failReads--;
      this.failedReads++;
      throw new Error("Redis unreachable for a moment");
    }
    return super.listFromTo(key, from, to);
  }
}

/** One process of the topology: its RedisPubSub (wrapped as given), its RedisStreamCache, and the CachingPubSub over them. */
function peer<Cache extends RedisStreamCache>(
  cache: Cache,
  wrap: (live: RedisPubSub) => PubSub,
  options: CachingPubSubOptions,
): { pubsub: CachingPubSub; cache: Cache } {
  const pubsub = new CachingPubSub(wrap(new RedisPubSub({ url: redis.url, logger: silentLogger })), cache, {
    logger: silentLogger,
    ...options,
  });
  onTestFinished(async () => {
    await pubsub.close();
    await cache.close();
  });
  return { pubsub, cache };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, offset) => from + offset);

async function publishChunks(pubsub: CachingPubSub, topic: string, from: number, to: number): Promise<void> {
  const runId = topic.slice("agent.stream.".length);
  for (const sequence of range(from, to)) {
    await pubsub.publish(topic, { type: "chunk", runId, data: { sequence } });
  }
  await pubsub.flush();
}

/**
 * The observer's process: its RedisPubSub loses the deliveries that carry a `finish` (kept in
 * `dropped`), and its cache is the one given.
 */
function observerPeer<Cache extends RedisStreamCache>(cache: Cache, options: CachingPubSubOptions) {
  let dropping: DroppingPubSub | undefined;
  const { pubsub } = peer(
    cache,
    (live) => {
      dropping = new DroppingPubSub(live, carriesFinish);
      return dropping;
    },
    options,
  );
  return { pubsub, cache, dropped: (dropping as unknown as DroppingPubSub).dropped };
}

const isFinish = (event: Event): boolean => event.type === "finish";

describe("an observer in another process whose last live delivery, the terminal event, is lost", () => {
  it("from offset 2, still gets index 61 from history once and in order, and ends within two seconds", async () => {
    const topic = "agent.stream.lost-finish";
    const worker = peer(new RedisStreamCache({ url: redis.url }), (live) => live, {});
    // The defaults: one re-read per 5 s at most, as in the fault suite.
    const caller = observerPeer(new RedisStreamCache({ url: redis.url }), {});
    await publishChunks(worker.pubsub, topic, 0, 3);
    const received: Event[] = [];
    await caller.pubsub.subscribeFromOffset(topic, 2, (event) => void received.push(event));
    await publishChunks(worker.pubsub, topic, 3, 61);
    await until(() => received.length === 59, { timeoutMs: 10_000, description: "indices 2 to 60" });
    const lostAt = Date.now();
    await worker.pubsub.publish(topic, { type: "finish", runId: "lost-finish", data: {} });
    await until(() => caller.dropped.length > 0, { timeoutMs: 5_000, description: "the lost delivery" });
    expect(caller.dropped.map(carried)).toEqual([[[61, "finish"]]]);
    await until(() => received.some(isFinish), { timeoutMs: 10_000, description: "the observer's end" });
    expect(Date.now() - lostAt).toBeLessThan(2_000);
    expect(received.map((event) => event.index)).toEqual(range(2, 62));
    expect(received.filter(isFinish)).toHaveLength(1);
  }, 30_000);

  it("ends although its first re-read fails, before an ended run's short-lived history expires", async () => {
    const topic = "agent.stream.short-history";
    // As the fault suite scales retention down: the history of an ended run lives 1.5 s.
    const worker = peer(new RedisStreamCache({ url: redis.url }), (live) => live, { terminalTtlMs: 1_500 });
    const caller = observerPeer(new UnreadableRedisCache({ url: redis.url }), { idleRecheckMs: 1_000 });
    await publishChunks(worker.pubsub, topic, 0, 3);
    const received: Event[] = [];
    await caller.pubsub.subscribeFromOffset(topic, 2, (event) => void received.push(event));
    await publishChunks(worker.pubsub, topic, 3, 10);
    await until(() => received.length === 8, { timeoutMs: 10_000, description: "indices 2 to 9" });
    caller.cache.failReads = 1;
    await worker.pubsub.publish(topic, { type: "finish", runId: "short-history", data: {} });
    await until(() => received.some(isFinish), { timeoutMs: 5_000, description: "the observer's end" });
    expect(caller.dropped.map(carried)).toEqual([[[10, "finish"]]]);
    expect(caller.cache.failedReads).toBe(1);
    expect(received.map((event) => event.index)).toEqual(range(2, 11));
  }, 30_000);
});
