import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseClusterNodes } from "./internal/redis-cli.ts";
import { type RedisCluster, startRedisCluster } from "./start-redis-cluster.ts";

let cluster: RedisCluster;
let client: Cluster;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  client = new Cluster([...cluster.nodes]);
});

afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});

/** The cluster as the first live node sees it. */
async function topology() {
  const node = client.nodes("master")[0];
  return parseClusterNodes((await node?.call("CLUSTER", "NODES")) as string);
}

describe("startRedisCluster", () => {
  it("forms 3 masters serving every slot, each with 1 synced replica, on free ports", async () => {
    await client.set("{probe}:key", "value");
    const nodes = await topology();
    const masters = nodes.filter((node) => node.master);
    expect(masters).toHaveLength(3);
    const slots = masters.flatMap((master) => master.slots).reduce((sum, [first, last]) => sum + last - first + 1, 0);
    expect(slots).toBe(16_384);
    for (const master of masters) {
      expect(nodes.filter((node) => node.masterId === master.id)).toHaveLength(1);
    }
    expect(new Set(cluster.nodes.map((node) => node.port)).size).toBe(6);
    expect(await client.get("{probe}:key")).toBe("value");
  });

  it("places a run topic in its run id's slot", async () => {
    expect(await cluster.slotOf("agent.stream.run-1")).toBe(await cluster.slotOf("{run-1}:anything"));
    expect(await cluster.slotOf("agent.control.run-1")).toBe(await cluster.slotOf("run-1"));
  });

  it("migrateSlotOf moves the slot and its keys to another master", async () => {
    await client.set("{moved}:a", "1");
    await client.set("{moved}:b", "2");
    const before = await cluster.masterOf("{moved}");
    const migration = await cluster.migrateSlotOf("{moved}");
    expect(migration.from).toEqual(before);
    expect(migration.keysMoved).toBe(2);
    expect(await cluster.masterOf("{moved}")).toEqual(migration.to);
    expect(await client.mget("{moved}:a", "{moved}:b")).toEqual(["1", "2"]);
  });

  it("killMasterOf kills the slot's master and resolves once its replica serves it; restartNode brings it back as a replica", async () => {
    await client.set("{failed}:key", "kept");
    const [replica] = await cluster.replicasOf("{failed}");
    const failover = await cluster.killMasterOf("{failed}");
    expect(cluster.servers.find((server) => server.port === failover.killed.port)?.running).toBe(false);
    expect(failover.promoted.port).toBe(replica?.port);
    expect(await cluster.masterOf("{failed}")).toEqual(failover.promoted);
    expect(await client.get("{failed}:key")).toBe("kept");
    await cluster.restartNode(failover.killed);
    const back = (await topology()).find((node) => node.port === failover.killed.port);
    expect(back?.master).toBe(false);
    expect((await cluster.replicasOf("{failed}")).map((server) => server.port)).toEqual([failover.killed.port]);
  });

  it("refuses fewer than 3 masters, naming the option", async () => {
    await expect(startRedisCluster({ masters: 2 })).rejects.toThrow(/masters must be an integer of at least 3, got 2/);
  });
});
