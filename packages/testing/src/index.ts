export {
  createFaultProxy,
  type DropRepliesOptions,
  type FaultMode,
  type FaultProxy,
  type FaultProxyOptions,
  type FaultProxyStats,
} from "./fault-proxy.ts";
export { type RedisServer, type StartRedisOptions, startRedis } from "./start-redis.ts";
export {
  type ClusterFailover,
  type ClusterNodeAddress,
  type RedisCluster,
  type SlotMigration,
  type SlotMigrationOptions,
  type StartRedisClusterOptions,
  startRedisCluster,
} from "./start-redis-cluster.ts";
