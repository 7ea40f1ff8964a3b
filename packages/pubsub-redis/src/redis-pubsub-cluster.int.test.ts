import { type RedisCluster, startRedisCluster } from "@mastra/inngest-testing";
import { silentLogger, until } from "@mastra/inngest-testing/helpers";
import { describePubSubConformance } from "@mastra/inngest-testing/pubsub";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { RedisPubSub } from "./redis-pubsub.ts";

let cluster: RedisCluster;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
});

afterAll(async () => {
  await cluster?.stop();
});

describePubSubConformance({
  name: "redis cluster (sharded Pub/Sub)",
  capabilities: { ordered: true, crossProcess: true },
  create: ({ namespace }) =>
    new RedisPubSub({ clusterNodes: [...cluster.nodes], channelPrefix: `${namespace}:`, logger: silentLogger }),
});

function open(channelPrefix: string): RedisPubSub {
  const pubsub = new RedisPubSub({ clusterNodes: [...cluster.nodes], channelPrefix, logger: silentLogger });
  onTestFinished(() => pubsub.close());
  return pubsub;
}

describe("RedisPubSub on a Redis Cluster", () => {
  it("subscribes with SSUBSCRIBE on the master of the run's slot only, on a channel tagged with the run id", async () => {
    const pubsub = open("sharded:");
    await pubsub.subscribe("agent.stream.run-7", () => {});
    const client = new Cluster([...cluster.nodes]);
    onTestFinished(() => client.disconnect());
    await client.ping();
    const channel = "sharded:{run-7}:agent.stream.run-7";
    const owner = await cluster.masterOf("agent.stream.run-7");
    for (const node of client.nodes("master")) {
      const sharded = (await node.call("PUBSUB", "SHARDCHANNELS", "sharded:*")) as string[];
      expect(sharded).toEqual(node.options.port === owner.port ? [channel] : []);
      expect(await node.call("PUBSUB", "CHANNELS", "sharded:*")).toEqual([]);
    }
    expect(await cluster.slotOf(channel)).toBe(await cluster.slotOf("agent.stream.run-7"));
  });

  it("publishes with SPUBLISH, which a plain SUBSCRIBE on any node never receives", async () => {
    const pubsub = open("plain:");
    const received: string[] = [];
    await pubsub.subscribe("agent.stream.run-8", (event) => void received.push(event.type));
    const listener = new Cluster([...cluster.nodes]);
    onTestFinished(() => listener.disconnect());
    const broadcast: string[] = [];
    listener.on("message", (_channel: string, message: string) => broadcast.push(message));
    await listener.subscribe("plain:{run-8}:agent.stream.run-8");
    await pubsub.publish("agent.stream.run-8", { type: "chunk", runId: "run-8", data: null });
    await until(() => received.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(broadcast).toEqual([]);
  });

  it("delivers again after the master of the run's slot is killed and its replica takes over", async () => {
    const subscriber = open("failover:");
    const publisher = open("failover:");
    const received: number[] = [];
    await subscriber.subscribe("agent.stream.run-9", (event) => {
      received.push((event.data as { sequence: number }).sequence);
    });
    await publisher.publish("agent.stream.run-9", { type: "chunk", runId: "run-9", data: { sequence: 0 } });
    await until(() => received.includes(0));
    const failover = await cluster.killMasterOf("agent.stream.run-9");
    expect(failover.promoted.port).not.toBe(failover.killed.port);
    // Live delivery is at most once: what is published before the subscription moved is lost, so
    // publish until one arrives, then check that delivery continues in order.
    let sequence = 1;
    await until(
      async () => {
        await publisher
          .publish("agent.stream.run-9", { type: "chunk", runId: "run-9", data: { sequence: sequence++ } })
          .catch(() => {});
        return received.length > 1;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    const next = sequence;
    for (let offset = 0; offset < 20; offset++) {
      await publisher.publish("agent.stream.run-9", {
        type: "chunk",
        runId: "run-9",
        data: { sequence: next + offset },
      });
    }
    await until(() => received.includes(next + 19));
    expect(received.filter((value) => value >= next)).toEqual(Array.from({ length: 20 }, (_, offset) => next + offset));
  });
});
