// The Redis Cluster row of the streaming path: the same publisher and observer pair on one Redis
// server and on a cluster of 3 masters with 1 replica each (sharded Pub/Sub, the append script in
// the run's slot), with and without waitForReplicas, at 1, 100 and 1,000 runs at once.
import { RedisPubSub } from "@mastra/inngest-pubsub-redis";
import { CachingPubSub } from "@mastra/inngest-stream-cache";
import { RedisStreamCache, type RedisStreamCacheOptions } from "@mastra/inngest-stream-cache-redis";
import { startRedis, startRedisCluster } from "@mastra/inngest-testing";
import { measurePair, type Pair, type StreamingFigures } from "./streaming.ts";

/** What one topology needs to build its pairs. */
interface Topology {
  name: string;
  cache: () => RedisStreamCache;
  live: () => RedisPubSub;
}

/** A publisher and an observer, each a `CachingPubSub` with its own connections, as two processes have. */
function pairOn(topology: Topology): Pair {
  const caches = [topology.cache(), topology.cache()];
  const [publisher, observer] = caches.map((cache) => new CachingPubSub(topology.live(), cache));
  return {
    name: topology.name,
    publisher: publisher as CachingPubSub,
    observer: observer as CachingPubSub,
    async close() {
      await Promise.all([publisher?.close(), observer?.close()]);
      await Promise.all(caches.map((cache) => cache.close()));
    },
  };
}

/**
 * Chunks per second and publish-to-observer latency, one Redis server against a 3×1 cluster, at
 * each number of runs at once in `runLevels`.
 */
export async function measureCluster(runLevels: readonly number[], eventsPerRun: number): Promise<StreamingFigures[]> {
  const single = await startRedis();
  const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  const nodes = [...cluster.nodes];
  const onCluster = (extra: Partial<RedisStreamCacheOptions>) => () =>
    new RedisStreamCache({ clusterNodes: nodes, ...extra } as RedisStreamCacheOptions);
  const topologies: Topology[] = [
    {
      name: "one Redis server",
      cache: () => new RedisStreamCache({ url: single.url }),
      live: () => new RedisPubSub({ url: single.url }),
    },
    {
      name: "Redis Cluster 3×1 (sharded Pub/Sub)",
      cache: onCluster({}),
      live: () => new RedisPubSub({ clusterNodes: nodes }),
    },
    {
      name: "Redis Cluster 3×1, waitForReplicas 1",
      cache: onCluster({ waitForReplicas: 1 }),
      live: () => new RedisPubSub({ clusterNodes: nodes }),
    },
  ];
  const rows: StreamingFigures[] = [];
  try {
    for (const topology of topologies) {
      // Connections opened and scripts loaded before the first measured level.
      const warmUp = pairOn(topology);
      await measurePair(warmUp, 10, 5);
      await warmUp.close();
      for (const concurrentRuns of runLevels) {
        const pair = pairOn(topology);
        rows.push(await measurePair(pair, concurrentRuns, eventsPerRun));
        await pair.close();
        process.stdout.write(`cluster, ${topology.name}, ${concurrentRuns} runs: done\n`);
      }
    }
    return rows;
  } finally {
    await cluster.stop();
    await single.stop();
  }
}

/** The report's section for {@link measureCluster}'s rows. */
export function clusterLines(rows: readonly StreamingFigures[]): string[] {
  if (rows.length === 0) {
    return [];
  }
  return [
    `Redis Cluster: the streaming path's Redis pair (a publisher and an observer from offset 0, each with its own connections) on one Redis server and on a cluster of 3 masters with 1 replica each, every process on this machine; ${rows[0]?.eventsPerRun} chunks per run, all runs at once. With waitForReplicas 1 every append waits for its replica (WAIT), so a failover loses no acknowledged event. The six nodes share this machine's cores with the benchmark, so the rows show the cost of the cluster path, not the scaling that nodes on their own machines give.`,
    "",
    "| topology | runs at once | chunks per second | p50 publish-to-observer ms | p99 ms | chunks/s ÷ one server |",
    "|---|---|---|---|---|---|",
    ...rows.map((row) => {
      const single = rows.find(
        (other) => other.pair === "one Redis server" && other.concurrentRuns === row.concurrentRuns,
      );
      const ratio = single === undefined ? "-" : (row.eventsPerSecond / single.eventsPerSecond).toFixed(2);
      return `| ${row.pair} | ${row.concurrentRuns} | ${row.eventsPerSecond.toFixed(0)} | ${row.p50Ms.toFixed(1)} | ${row.p99Ms.toFixed(1)} | ${ratio} |`;
    }),
  ];
}
