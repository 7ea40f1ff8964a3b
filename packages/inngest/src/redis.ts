export { RedisPubSub, type RedisPubSubOptions } from "@mastra/inngest-pubsub-redis";
export { RedisStreamCache, type RedisStreamCacheOptions } from "@mastra/inngest-stream-cache-redis";
