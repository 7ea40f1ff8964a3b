export type { CachingPublisher } from "./caching-publisher.ts";
export { CachingPubSub } from "./caching-pubsub.ts";
export type { CachingPubSubOptions } from "./caching-pubsub-options.ts";
export { InMemoryStreamCache, type InMemoryStreamCacheOptions } from "./in-memory-stream-cache.ts";
