import { createKeyLayout, ErrorCode, EVENTS_LOST_EVENT_TYPE, MastraInngestError } from "@mastra/inngest-core";
import { type RedisCluster, startRedisCluster } from "@mastra/inngest-testing";
import { describeServerCacheConformance, describeStreamCacheConformance } from "@mastra/inngest-testing/cache";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { RedisStreamCache } from "./redis-stream-cache.ts";

// Three masters with one replica each, as the issue asks of CI: every multi-key command of the
// cache must stay in one slot, and a failover must lose nothing unnoticed.
let cluster: RedisCluster;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
});

afterAll(async () => {
  await cluster?.stop();
});

describeServerCacheConformance({
  name: "RedisStreamCache on a Redis Cluster",
  create: ({ namespace }) => new RedisStreamCache({ clusterNodes: [...cluster.nodes], keyPrefix: `${namespace}:` }),
  destroy: (cache) => (cache as RedisStreamCache).close(),
});

describeStreamCacheConformance({
  name: "RedisStreamCache on a Redis Cluster",
  create: ({ namespace }) => new RedisStreamCache({ clusterNodes: [...cluster.nodes], keyPrefix: `${namespace}:` }),
  destroy: (cache) => (cache as RedisStreamCache).close(),
});

/** A cache on the cluster, closed after the test. */
function open(options: Partial<ConstructorParameters<typeof RedisStreamCache>[0]> = {}): RedisStreamCache {
  const cache = new RedisStreamCache({ clusterNodes: [...cluster.nodes], ...options } as never);
  onTestFinished(() => cache.close());
  return cache;
}

/** An append request of `count` chunk events of `runId`'s stream topic, numbered from `first`. */
function chunks(runId: string, first: number, count: number) {
  const keys = createKeyLayout({ keyPrefix: "cluster" }).run(runId).stream;
  return {
    listKey: keys.events,
    counterKey: keys.index,
    producersKey: keys.producers,
    attemptsKey: keys.attempts,
    entries: Array.from({ length: count }, (_, position) => {
      const sequence = first + position;
      const value = {
        type: "chunk",
        id: `${runId}-${sequence}`,
        runId,
        data: { sequence },
        createdAt: "2026-12-06T00:00:00.000Z",
      };
      return { value, key: `id:${value.id}` };
    }),
  };
}

describe("RedisStreamCache on a Redis Cluster", () => {
  it("takes a Cluster you own as client, leaves it open on close(), and pairs with the same startup nodes", async () => {
    const client = new Cluster([...cluster.nodes]);
    const cache = new RedisStreamCache({ client, keyPrefix: "owned" });
    await cache.set("value", { kept: true });
    await cache.close();
    expect(await client.get("owned:value")).toBe('{"kept":true}');
    expect(cache.redisServerIdentity).toBe(open().redisServerIdentity);
    expect(cache.redisServerIdentity).toMatch(/^cluster:/);
    client.disconnect();
  });

  it("with waitForReplicas, refuses to report an append stored while its replica cannot acknowledge it", async () => {
    const cache = open({ waitForReplicas: 1, replicaTimeoutMs: 300 });
    const request = (first: number, count: number) => chunks("waited-run", first, count);
    expect(await cache.appendIndexed(request(0, 2))).toEqual([
      { status: "appended", index: 0 },
      { status: "appended", index: 1 },
    ]);
    const [replica] = await cluster.replicasOf("agent.stream.waited-run");
    const frozen = replica?.pause(1_500);
    const refused = await cache.appendIndexed(request(2, 2)).catch((error: unknown) => error);
    expect(MastraInngestError.isInstance(refused, ErrorCode.TRANSPORT_CLOSED)).toBe(true);
    expect(String(refused)).toMatch(/reached 0 of 1 replicas within 300 ms/);
    await frozen;
    // The retry finds the events stored and acknowledged by the replica now.
    expect(await cache.appendIndexed(request(2, 2))).toEqual([
      { status: "duplicate", index: 2 },
      { status: "duplicate", index: 3 },
    ]);
  });

  it("stores an events-lost notice at each index a failover lost, keeps later indices in place, and counts them", async () => {
    const cache = open();
    const request = (first: number, count: number) => chunks("lost-run", first, count);
    await cache.appendIndexed(request(0, 5));
    const [replica] = await cluster.replicasOf("agent.stream.lost-run");
    expect(replica).toBeDefined();
    // Let the replica receive the first five, then cut it off: the next three reach its master only.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await cluster.cutReplicationOf("agent.stream.lost-run");
    const acknowledged = await cache.appendIndexed(request(5, 3));
    expect(acknowledged.map((outcome) => outcome.status)).toEqual(["appended", "appended", "appended"]);
    const failover = await cluster.killMasterOf("agent.stream.lost-run");
    expect(failover.promoted.port).toBe(replica?.port);

    const after = await cache.appendIndexed(request(8, 2));
    expect(after).toEqual([
      { status: "appended", index: 8 },
      { status: "appended", index: 9 },
    ]);
    expect(cache.lostEventCount).toBe(3);
    const stored = (await cache.listFromTo(request(0, 0).listKey, 0)) as Array<{
      index: number;
      type: string;
      data: Record<string, number>;
    }>;
    expect(stored.map((event) => [event.index, event.type])).toEqual([
      ...[0, 1, 2, 3, 4].map((index) => [index, "chunk"]),
      ...[5, 6, 7].map((index) => [index, EVENTS_LOST_EVENT_TYPE]),
      [8, "chunk"],
      [9, "chunk"],
    ]);
    expect(stored[5]?.data).toEqual({ firstLostIndex: 5, lastLostIndex: 7 });
    expect(stored.slice(0, 5).map((event) => event.data.sequence)).toEqual([0, 1, 2, 3, 4]);
  });

  it("clear() deletes the prefix's keys on every master, and expire() spans keys of several slots", async () => {
    const cache = open({ keyPrefix: "spread" });
    const names = Array.from({ length: 30 }, (_, position) => `key-${position}`);
    await Promise.all(names.map((name) => cache.set(name, 1)));
    await cache.expire(names, 60_000);
    const client = new Cluster([...cluster.nodes]);
    onTestFinished(() => client.disconnect());
    await client.set("other:key", "kept");
    const perMaster = async () =>
      Promise.all(client.nodes("master").map(async (node) => (await node.keys("spread:*")).length));
    const before = await perMaster();
    expect(before.filter((count) => count > 0).length).toBeGreaterThan(1);
    expect(before.reduce((sum, count) => sum + count, 0)).toBe(30);
    await cache.clear();
    expect(await perMaster()).toEqual(before.map(() => 0));
    expect(await client.get("other:key")).toBe("kept");
  });
});
