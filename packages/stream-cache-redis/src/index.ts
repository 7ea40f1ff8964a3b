export { RedisStreamCache } from "./redis-stream-cache.ts";
export type { RedisStreamCacheOptions } from "./redis-stream-cache-options.ts";
