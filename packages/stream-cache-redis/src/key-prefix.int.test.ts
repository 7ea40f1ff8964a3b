import { EventEmitterPubSub } from "@mastra/core/events";
import { createKeyLayout } from "@mastra/inngest-core";
import { CachingPubSub } from "@mastra/inngest-stream-cache";
import { type RedisServer, startRedis } from "@mastra/inngest-testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RedisStreamCache } from "./redis-stream-cache.ts";

let redis: RedisServer;
let admin: Redis;

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.kill();
});

beforeEach(async () => {
  await admin.flushdb();
});

/** Every key in the database, sorted: the test owns this Redis, so KEYS is fine. */
async function storedKeys(): Promise<string[]> {
  return (await admin.keys("*")).sort();
}

/** The keyPrefix is joined to each key with ":", as createKeyLayout and RedisPubSub's default do. */
describe("RedisStreamCache keyPrefix", () => {
  it("joins keyPrefix and each key with ':' for every kind of write", async () => {
    const cache = new RedisStreamCache({ client: admin, keyPrefix: "myapp" });
    await cache.set("foo", { value: 1 });
    await cache.listPush("list", "a");
    await cache.increment("count");
    await cache.listPushIndexed("indexed", "indexed-counter", { text: "b" });

    expect(await storedKeys()).toEqual([
      "myapp:count",
      "myapp:foo",
      "myapp:indexed",
      "myapp:indexed-counter",
      "myapp:list",
    ]);
    expect(await cache.get("foo")).toEqual({ value: 1 });
    expect(await cache.listFromTo("list", 0)).toEqual(["a"]);
    expect(await admin.get("myapp:foo")).toBe('{"value":1}');
  });

  it("stores the keys of the key layout after the prefix and its ':', unchanged", async () => {
    const cache = new RedisStreamCache({ client: admin, keyPrefix: "myapp" });
    const pubsub = new CachingPubSub(new EventEmitterPubSub(), cache, { keyPrefix: "mastra:inngest" });
    await pubsub.publish("agent.stream.run-1", {
      type: "chunk",
      runId: "run-1",
      data: {},
      producer: { stepId: "llm:0", attempt: 0, sequence: 0 },
    } as never);
    const layout = createKeyLayout({ keyPrefix: "mastra:inngest" }).topic("agent.stream.run-1");

    // The publish is written in a batch after it resolves.
    await expect
      .poll(storedKeys, { timeout: 5_000 })
      .toEqual([`myapp:${layout.events}`, `myapp:${layout.index}`, `myapp:${layout.producers}`].sort());
    expect(layout.events).toBe("mastra:inngest:{run-1}:agent.stream.run-1:events");
    await pubsub.close();
  });

  it("adds no second ':' to a prefix that ends with one, so such keys stay where they were", async () => {
    const cache = new RedisStreamCache({ client: admin, keyPrefix: "legacy:" });
    await cache.set("foo", 1);
    await cache.listPush("list", "a");

    expect(await storedKeys()).toEqual(["legacy:foo", "legacy:list"]);
  });

  it("stores keys as they are without a keyPrefix", async () => {
    const cache = new RedisStreamCache({ client: admin });
    await cache.set("foo", 1);

    expect(await storedKeys()).toEqual(["foo"]);
  });

  it("clear() deletes the keys under '<keyPrefix>:' and not those of a longer prefix", async () => {
    const cache = new RedisStreamCache({ client: admin, keyPrefix: "app" });
    const neighbour = new RedisStreamCache({ client: admin, keyPrefix: "application" });
    await cache.set("foo", 1);
    await cache.listPush("list", "a");
    await neighbour.set("foo", 2);
    await admin.set("apple", "3");

    await cache.clear();

    expect(await storedKeys()).toEqual(["apple", "application:foo"]);
    expect(await neighbour.get("foo")).toBe(2);
  });
});
