export {
  createFaultProxy,
  type DropRepliesOptions,
  type FaultMode,
  type FaultProxy,
  type FaultProxyOptions,
  type FaultProxyStats,
} from "./fault-proxy.ts";
export { type RedisServer, type StartRedisOptions, startRedis } from "./start-redis.ts";
