import type { Event } from "@mastra/core/events";
import { EVENTS_LOST_EVENT_TYPE, streamTopic } from "@mastra/inngest-core";
import { RedisPubSub } from "@mastra/inngest-pubsub-redis";
import { CachingPubSub } from "@mastra/inngest-stream-cache";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { type RedisCluster, startRedisCluster } from "@mastra/inngest-testing";
import { silentLogger, until } from "@mastra/inngest-testing/helpers";
import { describePubSubConformance } from "@mastra/inngest-testing/pubsub";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";

// The all-Redis topology on a Redis Cluster of 3 masters with 1 replica each: RedisPubSub with
// sharded Pub/Sub for live delivery, RedisStreamCache for history, CachingPubSub on top. Streams
// run through a failover of the master of their slot and through a slot migration.
// MASTRA_INNGEST_CLUSTER_FULL=1 runs 200 runs of 200 chunks instead of the CI size.

const full = process.env.MASTRA_INNGEST_CLUSTER_FULL === "1";
const runCount = full ? 200 : 12;
const chunksPerRun = full ? 200 : 60;

let cluster: RedisCluster;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
});

afterAll(async () => {
  await cluster?.stop();
});

interface Stack {
  pubsub: CachingPubSub;
  cache: RedisStreamCache;
  live: RedisPubSub;
  close(): Promise<void>;
}

function stack(options: { keyPrefix?: string; waitForReplicas?: number } = {}): Stack {
  const nodes = [...cluster.nodes];
  const cache = new RedisStreamCache({
    clusterNodes: nodes,
    ...(options.waitForReplicas === undefined
      ? {}
      : { waitForReplicas: options.waitForReplicas, replicaTimeoutMs: 500 }),
  });
  const live = new RedisPubSub({
    clusterNodes: nodes,
    logger: silentLogger,
    ...(options.keyPrefix === undefined ? {} : { channelPrefix: `${options.keyPrefix}:` }),
  });
  // Retries that outlast a failover (about 3 s here), so no write fails for good meanwhile.
  const pubsub = new CachingPubSub(live, cache, {
    ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
    idleRecheckMs: 300,
    batchWindowMs: 2,
    writeRetries: 8,
    // Reads that fail while a slot fails over are reported here; the re-read recovers them.
    logger: silentLogger,
  });
  return {
    pubsub,
    cache,
    live,
    async close() {
      await pubsub.close();
      await cache.close();
    },
  };
}

describePubSubConformance({
  name: "CachingPubSub over RedisPubSub and RedisStreamCache on a Redis Cluster",
  capabilities: { ordered: true, replay: true, crossProcess: true },
  create: ({ namespace }) => {
    const { pubsub, cache } = stack({ keyPrefix: namespace });
    const close = pubsub.close.bind(pubsub);
    pubsub.close = async () => {
      await close();
      await cache.close();
    };
    return pubsub;
  },
});

/** What one observer received of one run, from its offset on. */
interface Observation {
  runId: string;
  offset: number;
  events: Event[];
  finished: boolean;
}

async function observe(pubsub: CachingPubSub, runId: string, offset: number | "replay"): Promise<Observation> {
  const observation: Observation = { runId, offset: offset === "replay" ? 0 : offset, events: [], finished: false };
  const callback = (event: Event): void => {
    observation.events.push(event);
    if (event.type === "finish") {
      observation.finished = true;
    }
  };
  if (offset === "replay") {
    await pubsub.subscribeWithReplay(streamTopic(runId), callback);
  } else {
    await pubsub.subscribeFromOffset(streamTopic(runId), offset, callback);
  }
  return observation;
}

/**
 * Checks one observation: every index from its offset to the finish, once and in order; chunks in
 * publish order; every chunk published at or after the offset either received or counted by an
 * events-lost notice at its place. Returns the notices seen.
 */
function verify(observation: Observation): number {
  const { events, offset, runId } = observation;
  expect(observation.finished, `${runId} from ${offset} finished`).toBe(true);
  expect(
    events.map((event) => event.index),
    `${runId} from ${offset}: indices`,
  ).toEqual(events.map((_, position) => offset + position));
  const sequences = events
    .filter((event) => event.type === "chunk")
    .map((event) => (event.data as { sequence: number }).sequence);
  expect(
    [...sequences].sort((left, right) => left - right),
    `${runId} from ${offset}: chunk order`,
  ).toEqual(sequences);
  expect(new Set(sequences).size, `${runId} from ${offset}: each chunk once`).toBe(sequences.length);
  const lost = events.filter((event) => event.type === EVENTS_LOST_EVENT_TYPE).length;
  const unknown = events.filter((event) => !["chunk", "finish", EVENTS_LOST_EVENT_TYPE].includes(event.type));
  expect(unknown, `${runId} from ${offset}: no other event`).toEqual([]);
  // Offset 0 sees the whole run: every chunk is there or stands as a notice.
  if (offset === 0) {
    expect(sequences.length + lost, `${runId}: chunks received and lost`).toBe(chunksPerRun);
  }
  return lost;
}

/**
 * Streams `runCount` runs of `chunksPerRun` chunks through `fault`, started on the topic of the
 * first run whose master still has a replica once that run has published a third of its chunks; then checks live observers and observers from several offsets.
 * Returns the events-lost notices seen from offset 0 and the writer's count of lost events.
 */
async function streamThrough(
  label: string,
  fault: (topic: string, published: () => number) => Promise<unknown>,
  options: { waitForReplicas?: number } = {},
): Promise<{ lostSeen: number; lostCounted: number }> {
  const writer = stack(options);
  const readers = stack();
  onTestFinished(async () => {
    await writer.close();
    await readers.close();
  });
  const runIds = Array.from({ length: runCount }, (_, run) => `${label}-${run}`);
  let victim: string | undefined;
  for (const runId of runIds) {
    if (victim === undefined && (await cluster.replicasOf(streamTopic(runId))).length > 0) {
      victim = runId;
    }
  }
  const liveObservers = await Promise.all(runIds.map((runId) => observe(readers.pubsub, runId, "replay")));
  let faultStarted: Promise<unknown> | undefined;
  let victimPublished = 0;
  await Promise.all(
    runIds.map(async (runId) => {
      for (let sequence = 0; sequence < chunksPerRun; sequence++) {
        if (runId === victim && sequence === Math.floor(chunksPerRun / 3)) {
          faultStarted = fault(streamTopic(runId), () => victimPublished);
        }
        await writer.pubsub.publish(streamTopic(runId), { type: "chunk", runId, data: { sequence } });
        if (runId === victim) {
          victimPublished = sequence + 1;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await writer.pubsub.publish(streamTopic(runId), { type: "finish", runId, data: {} });
    }),
  );
  await faultStarted;
  await writer.pubsub.flush();
  await until(() => liveObservers.every((observation) => observation.finished), {
    timeoutMs: 30_000,
    description: "every live observer got its run's finish",
  });
  const replayed = await Promise.all(
    runIds.flatMap((runId) =>
      [0, Math.floor(chunksPerRun / 2), chunksPerRun - 1].map((offset) => observe(readers.pubsub, runId, offset)),
    ),
  );
  await until(() => replayed.every((observation) => observation.finished), {
    timeoutMs: 30_000,
    description: "every observer from an offset got its run's finish",
  });
  let lostSeen = 0;
  for (const observation of [...liveObservers, ...replayed]) {
    const lost = verify(observation);
    if (observation.offset === 0 && !liveObservers.includes(observation)) {
      lostSeen += lost;
    }
  }
  return { lostSeen, lostCounted: writer.cache.lostEventCount };
}

describe("streams on a Redis Cluster", () => {
  it("the store and live delivery of a run share its slot: the cache publishes the run's batches itself", () => {
    const { live, cache } = stack();
    onTestFinished(() => live.close().then(() => cache.close()));
    expect(live.notificationChannel("agent.stream.run-1", cache)).toBe("mastra:inngest:{run-1}:agent.stream.run-1");
  });

  it("with waitForReplicas 1, a failover loses nothing, even after the replica was cut off before the kill", async () => {
    const { lostSeen, lostCounted } = await streamThrough(
      "waited",
      async (topic) => {
        await cluster.cutReplicationOf(topic);
        await new Promise((resolve) => setTimeout(resolve, 150));
        const failover = await cluster.killMasterOf(topic);
        // Back as the new master's replica, as an operator brings it, so WAIT is answered again.
        await cluster.restartNode(failover.killed);
      },
      { waitForReplicas: 1 },
    );
    expect(lostCounted).toBe(0);
    expect(lostSeen).toBe(0);
  });

  it("without waitForReplicas, a failover that lost acknowledged events is reported: an events-lost notice at each lost index, counted", async () => {
    const { lostSeen, lostCounted } = await streamThrough("lossy", async (topic) => {
      // Writes from here on reach the master only, as writes in flight do when it dies.
      await cluster.cutReplicationOf(topic);
      await new Promise((resolve) => setTimeout(resolve, 150));
      const failover = await cluster.killMasterOf(topic);
      // Back as the new master's replica, as an operator brings it, so WAIT is answered again.
      await cluster.restartNode(failover.killed);
    });
    expect(lostCounted).toBeGreaterThan(0);
    expect(lostSeen).toBe(lostCounted);
  });

  it.each([
    ["without waitForReplicas", {}],
    ["with waitForReplicas 1", { waitForReplicas: 1 }],
  ] as const)(
    "a slot migration while runs stream (ASK, TRYAGAIN, then MOVED) loses nothing, %s",
    async (_name, options) => {
      let moved = 0;
      let publishedWhileMigrating = 0;
      const label = `migrated${"waitForReplicas" in options ? options.waitForReplicas : 0}`;
      const { lostSeen, lostCounted } = await streamThrough(
        label,
        async (topic, published) => {
          const before = published();
          const migration = await cluster.migrateSlotOf(topic, { keysPerStep: 1, pauseMs: 50 });
          publishedWhileMigrating = published() - before;
          moved = migration.keysMoved;
          expect(migration.to.port).not.toBe(migration.from.port);
        },
        options,
      );
      expect(moved).toBeGreaterThan(0);
      // The run whose slot moved kept publishing while its keys moved.
      expect(publishedWhileMigrating).toBeGreaterThan(0);
      expect(lostCounted).toBe(0);
      expect(lostSeen).toBe(0);
    },
  );
});
