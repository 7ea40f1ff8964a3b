export { RedisPubSub } from "./redis-pubsub.ts";
export { DEFAULT_CHANNEL_PREFIX, type RedisPubSubLogger, type RedisPubSubOptions } from "./redis-pubsub-options.ts";
