import { setTimeout as sleep } from "node:timers/promises";
import { parseRunTopic } from "@mastra/inngest-core";
import { findFreePort } from "./free-port.ts";
import { type ClusterNodeLine, parseClusterNodes, redisCli, resolveRedisCli } from "./internal/redis-cli.ts";
import { type RedisServer, startRedis } from "./start-redis.ts";

/** Options of {@link startRedisCluster}. */
export interface StartRedisClusterOptions {
  /**
   * Masters, each serving an equal share of the 16384 slots; at least 3, as Redis Cluster needs a
   * majority of masters to agree on a failover.
   * @default 3
   */
  masters?: number;
  /**
   * Replicas of each master, promoted when their master fails.
   * @default 1
   */
  replicasPerMaster?: number;
  /**
   * `cluster-node-timeout`: how long a node may not answer before it counts as failing, in
   * milliseconds. A failover takes about twice this.
   * @default 1000
   */
  nodeTimeoutMs?: number;
  /**
   * The `redis-server` executable; `redis-cli` is looked up as `REDIS_CLI_BIN`, on PATH, then beside it.
   * @default process.env.REDIS_SERVER_BIN ?? "redis-server"
   */
  binary?: string;
  /**
   * How long to wait for the cluster to be formed, and for a replica to take over after a kill,
   * in milliseconds.
   * @default 30000
   */
  timeoutMs?: number;
}

/** A node's address, as an ioredis `Cluster` takes its startup nodes. */
export interface ClusterNodeAddress {
  host: string;
  port: number;
}

/** What {@link RedisCluster.killMasterOf} did. */
export interface ClusterFailover {
  /** The slot of the key or topic. */
  slot: number;
  /** The master that was killed with SIGKILL. */
  killed: ClusterNodeAddress;
  /** The replica that was promoted and now serves the slot. */
  promoted: ClusterNodeAddress;
  /** Milliseconds from the kill until every live node saw the replica serve the slot. */
  tookMs: number;
}

/** What {@link RedisCluster.migrateSlotOf} did. */
export interface SlotMigration {
  slot: number;
  from: ClusterNodeAddress;
  to: ClusterNodeAddress;
  /** Keys moved with MIGRATE. */
  keysMoved: number;
}

/** Options of {@link RedisCluster.migrateSlotOf}. */
export interface SlotMigrationOptions {
  /**
   * Keys moved per MIGRATE; a small batch keeps the slot half-migrated for longer, so clients
   * meet `ASK` and `TRYAGAIN` redirections.
   * @default 1
   */
  keysPerStep?: number;
  /**
   * Pause between two MIGRATE steps, in milliseconds.
   * @default 20
   */
  pauseMs?: number;
}

/** A Redis Cluster of `redis-server` processes owned by a test. */
export interface RedisCluster {
  /** Every node's address (masters and replicas), as ioredis `new Cluster(nodes)` takes them. */
  readonly nodes: readonly ClusterNodeAddress[];
  /** The processes, in the order of `nodes`. */
  readonly servers: readonly RedisServer[];
  /**
   * The slot of a key or topic, as the project's keys place it: a run topic (`agent.stream.<id>`,
   * `agent.control.<id>`) is in its run id's slot, a key with a `{tag}` in its tag's slot, and
   * anything else in its own.
   */
  slotOf(keyOrTopic: string): Promise<number>;
  /** The node that serves the slot of a key or topic now. */
  masterOf(keyOrTopic: string): Promise<ClusterNodeAddress>;
  /**
   * The replicas of that node, as processes: pause one (`pause(ms)`) before a kill, and the writes
   * it missed meanwhile are lost when it takes over, as with asynchronous replication under load.
   */
  replicasOf(keyOrTopic: string): Promise<RedisServer[]>;
  /**
   * Cuts the replication link of the master serving a key or topic: its replicas are dropped and
   * cannot sync again (the master's default user loses SYNC and PSYNC), while the master goes on
   * acknowledging writes. Writes from then on are lost when a replica takes over, as writes in
   * flight are under asynchronous replication. Resolves once the master has no replica connected.
   */
  cutReplicationOf(keyOrTopic: string): Promise<ClusterNodeAddress>;
  /**
   * Kills (SIGKILL) the master serving the slot of a key or topic, and resolves once one of its
   * replicas was promoted and every live node sees it serve the slot. Rejects when no replica
   * took over within `timeoutMs`.
   */
  killMasterOf(keyOrTopic: string): Promise<ClusterFailover>;
  /**
   * Starts a killed node again on its port with its cluster configuration, as an operator brings a
   * failed master back; it rejoins as a replica of the master that took its slots. Resolves once
   * it has synced and every live node sees it up.
   */
  restartNode(node: ClusterNodeAddress): Promise<void>;
  /**
   * Moves the slot of a key or topic to another master, as `redis-cli --cluster reshard` does:
   * IMPORTING and MIGRATING, the keys moved with MIGRATE a few at a time, then the slot assigned
   * to the new master on every node. Clients meet `ASK`, `TRYAGAIN` and then `MOVED`.
   */
  migrateSlotOf(keyOrTopic: string, options?: SlotMigrationOptions): Promise<SlotMigration>;
  /** Kills every node and waits until each has exited. */
  stop(): Promise<void>;
}

const clusterSlots = 16_384;

/**
 * Starts a Redis Cluster of `masters * (1 + replicasPerMaster)` `redis-server` processes on free
 * ports of 127.0.0.1 (each with its own cluster bus port), creates it with
 * `redis-cli --cluster create`, and waits until every node reports `cluster_state:ok` and knows
 * every other node. Nodes keep nothing on disk. `cluster-require-full-coverage` is off, so the
 * other masters keep serving while one slot range fails over. Needs Redis 7 (sharded Pub/Sub,
 * `cluster-port`).
 *
 * @example
 * const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
 * const client = new Cluster([...cluster.nodes]);
 * await cluster.killMasterOf("agent.stream.run-1"); // a replica serves run-1's slot now
 * await cluster.stop();
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicasPerMaster = options.replicasPerMaster ?? 1;
  if (!Number.isSafeInteger(masters) || masters < 3) {
    throw new Error(`[@mastra/inngest-testing] masters must be an integer of at least 3, got ${masters}`);
  }
  if (!Number.isSafeInteger(replicasPerMaster) || replicasPerMaster < 0) {
    throw new Error(
      `[@mastra/inngest-testing] replicasPerMaster must be a non-negative integer, got ${replicasPerMaster}`,
    );
  }
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const binary = options.binary ?? process.env.REDIS_SERVER_BIN ?? "redis-server";
  const cli = resolveRedisCli(binary);
  const count = masters * (1 + replicasPerMaster);

  const servers: RedisServer[] = [];
  try {
    for (let position = 0; position < count; position++) {
      servers.push(
        await startRedis({
          binary,
          arguments: [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            String(nodeTimeoutMs),
            // The default bus port is port + 10000, which may be taken or past 65535.
            "--cluster-port",
            String(await findFreePort()),
            "--cluster-require-full-coverage",
            "no",
            // A replica may take over however long it was cut off: the test decides when to kill.
            "--cluster-replica-validity-factor",
            "0",
            // A new replica's first sync starts at once, not after the default 5 s wait for others.
            "--repl-diskless-sync-delay",
            "0",
          ],
        }),
      );
    }
    const addresses = servers.map((server) => `${server.host}:${server.port}`);
    await redisCli(cli, servers[0] as RedisServer, [
      "--cluster",
      "create",
      ...addresses,
      "--cluster-replicas",
      String(replicasPerMaster),
      "--cluster-yes",
    ]);
    await waitFor(timeoutMs, "the cluster to form", () => clusterReady(cli, servers, count, replicasPerMaster));
  } catch (error) {
    await Promise.all(servers.map((server) => server.kill()));
    throw error;
  }

  const live = (): RedisServer[] => servers.filter((server) => server.running);
  const view = async (): Promise<ClusterNodeLine[]> => {
    for (const server of live()) {
      try {
        return parseClusterNodes(await redisCli(cli, server, ["CLUSTER", "NODES"]));
      } catch {
        // A node that just died; ask the next one.
      }
    }
    throw new Error("[@mastra/inngest-testing] no node of the cluster answers");
  };
  const slotOf = async (keyOrTopic: string): Promise<number> => {
    const key = parseRunTopic(keyOrTopic)?.runId ?? keyOrTopic;
    return Number(await redisCli(cli, live()[0] as RedisServer, ["CLUSTER", "KEYSLOT", key]));
  };
  const serving = (nodes: ClusterNodeLine[], slot: number): ClusterNodeLine | undefined =>
    nodes.find(
      (node) => node.master && !node.failing && node.slots.some(([first, last]) => slot >= first && slot <= last),
    );
  const serverAt = (node: ClusterNodeAddress): RedisServer => {
    const found = servers.find((server) => server.port === node.port);
    if (found === undefined) {
      throw new Error(`[@mastra/inngest-testing] no node of this cluster listens on port ${node.port}`);
    }
    return found;
  };
  const address = (node: ClusterNodeLine): ClusterNodeAddress => ({ host: node.host, port: node.port });
  const everyLiveNodeSees = async (check: (nodes: ClusterNodeLine[]) => boolean): Promise<boolean> => {
    for (const server of live()) {
      const nodes = parseClusterNodes(await redisCli(cli, server, ["CLUSTER", "NODES"]).catch(() => ""));
      if (nodes.length === 0 || !check(nodes)) {
        return false;
      }
    }
    return true;
  };

  const masterOf = async (keyOrTopic: string): Promise<ClusterNodeAddress> => {
    const slot = await slotOf(keyOrTopic);
    const master = serving(await view(), slot);
    if (master === undefined) {
      throw new Error(`[@mastra/inngest-testing] no live master serves slot ${slot}`);
    }
    return address(master);
  };

  return {
    nodes: servers.map((server) => ({ host: server.host, port: server.port })),
    servers,
    slotOf,
    masterOf,
    async replicasOf(keyOrTopic) {
      const slot = await slotOf(keyOrTopic);
      const nodes = await view();
      const master = serving(nodes, slot);
      return nodes.filter((node) => master !== undefined && node.masterId === master.id).map(serverAt);
    },
    async cutReplicationOf(keyOrTopic) {
      const master = serverAt(await masterOf(keyOrTopic));
      await redisCli(cli, master, ["ACL", "SETUSER", "default", "-sync", "-psync"]);
      await redisCli(cli, master, ["CLIENT", "KILL", "TYPE", "replica"]);
      await waitFor(timeoutMs, "the master to have no replica connected", async () =>
        (await redisCli(cli, master, ["INFO", "replication"])).includes("connected_slaves:0"),
      );
      return { host: master.host, port: master.port };
    },
    async killMasterOf(keyOrTopic) {
      const slot = await slotOf(keyOrTopic);
      const nodes = await view();
      const master = serving(nodes, slot);
      if (master === undefined) {
        throw new Error(`[@mastra/inngest-testing] no live master serves slot ${slot}`);
      }
      const replicaIds = new Set(nodes.filter((node) => node.masterId === master.id).map((node) => node.id));
      if (replicaIds.size === 0) {
        throw new Error(`[@mastra/inngest-testing] the master of slot ${slot} has no replica to take over`);
      }
      const startedAt = performance.now();
      await serverAt(master).kill();
      let promoted: ClusterNodeLine | undefined;
      await waitFor(timeoutMs, `a replica to take over slot ${slot}`, () =>
        everyLiveNodeSees((seen) => {
          const now = serving(seen, slot);
          if (now === undefined || !replicaIds.has(now.id)) {
            return false;
          }
          promoted = now;
          return true;
        }),
      );
      return {
        slot,
        killed: address(master),
        promoted: address(promoted as ClusterNodeLine),
        tookMs: Math.round(performance.now() - startedAt),
      };
    },
    async restartNode(node) {
      const server = serverAt(node);
      await server.restart();
      await waitFor(timeoutMs, `the node on port ${node.port} to rejoin as a synced replica`, async () => {
        const seen = parseClusterNodes(await redisCli(cli, server, ["CLUSTER", "NODES"]));
        const self = seen.find((line) => line.port === node.port);
        if (self?.masterId === undefined) {
          return false;
        }
        const replication = await redisCli(cli, server, ["INFO", "replication"]);
        return (
          replication.includes("master_link_status:up") &&
          (await everyLiveNodeSees((nodes) => nodes.some((line) => line.id === self.id && !line.failing)))
        );
      });
    },
    async migrateSlotOf(keyOrTopic, migration = {}) {
      const keysPerStep = migration.keysPerStep ?? 1;
      const pauseMs = migration.pauseMs ?? 20;
      const slot = await slotOf(keyOrTopic);
      const nodes = await view();
      const source = serving(nodes, slot);
      const target = nodes.find(
        (node) => node.master && !node.failing && node.id !== source?.id && node.slots.length > 0,
      );
      if (source === undefined || target === undefined) {
        throw new Error(`[@mastra/inngest-testing] slot ${slot} needs a live master and another one to move to`);
      }
      const sourceServer = serverAt(source);
      const targetServer = serverAt(target);
      const slotText = String(slot);
      await redisCli(cli, targetServer, ["CLUSTER", "SETSLOT", slotText, "IMPORTING", source.id]);
      await redisCli(cli, sourceServer, ["CLUSTER", "SETSLOT", slotText, "MIGRATING", target.id]);
      let keysMoved = 0;
      for (;;) {
        const keys = (await redisCli(cli, sourceServer, ["CLUSTER", "GETKEYSINSLOT", slotText, String(keysPerStep)]))
          .split("\n")
          .filter((key) => key !== "");
        if (keys.length === 0) {
          break;
        }
        await redisCli(cli, sourceServer, [
          "MIGRATE",
          target.host,
          String(target.port),
          "",
          "0",
          "5000",
          "KEYS",
          ...keys,
        ]);
        keysMoved += keys.length;
        await sleep(pauseMs);
      }
      // The new owner first, then the old one, then the rest: the order redis-cli uses.
      const others = live().filter((server) => server !== sourceServer && server !== targetServer);
      for (const server of [targetServer, sourceServer, ...others]) {
        await redisCli(cli, server, ["CLUSTER", "SETSLOT", slotText, "NODE", target.id]).catch(() => "");
      }
      await waitFor(timeoutMs, `every node to see slot ${slot} on its new master`, () =>
        everyLiveNodeSees((seen) => serving(seen, slot)?.id === target.id),
      );
      return { slot, from: address(source), to: address(target), keysMoved };
    },
    async stop() {
      await Promise.all(servers.map((server) => server.kill()));
    },
  };
}

/** Whether every node reports `cluster_state:ok`, knows every node, and each master has its replicas. */
async function clusterReady(
  cli: string,
  servers: readonly RedisServer[],
  count: number,
  replicasPerMaster: number,
): Promise<boolean> {
  for (const server of servers) {
    const info = await redisCli(cli, server, ["CLUSTER", "INFO"]);
    if (!info.includes("cluster_state:ok")) {
      return false;
    }
    const nodes = parseClusterNodes(await redisCli(cli, server, ["CLUSTER", "NODES"]));
    const masters = nodes.filter((node) => node.master && node.slots.length > 0);
    const covered = masters.reduce(
      (sum, node) => sum + node.slots.reduce((slots, [first, last]) => slots + last - first + 1, 0),
      0,
    );
    const attached = masters.every(
      (master) => nodes.filter((node) => node.masterId === master.id).length === replicasPerMaster,
    );
    if (nodes.length !== count || covered !== clusterSlots || !attached) {
      return false;
    }
    // A replica that has not finished its first sync would take over with an empty data set.
    const self = nodes.find((node) => node.port === server.port);
    if (self?.masterId !== undefined) {
      const replication = await redisCli(cli, server, ["INFO", "replication"]);
      if (!replication.includes("master_link_status:up")) {
        return false;
      }
    }
  }
  return true;
}

async function waitFor(timeoutMs: number, what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) {
      throw new Error(`[@mastra/inngest-testing] timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(50);
  }
}
