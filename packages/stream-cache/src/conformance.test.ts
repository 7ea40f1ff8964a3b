import { EventEmitterPubSub } from "@mastra/core/events";
import { describeServerCacheConformance, describeStreamCacheConformance } from "@mastra/inngest-testing/cache";
import { describePubSubConformance } from "@mastra/inngest-testing/pubsub";
import { CachingPubSub } from "./caching-pubsub.ts";
import { InMemoryStreamCache } from "./in-memory-stream-cache.ts";

describeServerCacheConformance({ name: "InMemoryStreamCache", create: () => new InMemoryStreamCache() });
describeStreamCacheConformance({ name: "InMemoryStreamCache", create: () => new InMemoryStreamCache() });

// Instances made with the same namespace share one transport and one cache, as processes sharing
// a backend do, so the cross-instance cases exercise real delivery and replay between them.
const backends = new Map<string, { transport: EventEmitterPubSub; cache: InMemoryStreamCache }>();

describePubSubConformance({
  name: "CachingPubSub over EventEmitterPubSub and InMemoryStreamCache",
  capabilities: { ordered: true, replay: true, crossProcess: true },
  create: ({ namespace }) => {
    let backend = backends.get(namespace);
    if (backend === undefined) {
      backend = { transport: new EventEmitterPubSub(), cache: new InMemoryStreamCache() };
      backends.set(namespace, backend);
    }
    return new CachingPubSub(backend.transport, backend.cache, { batchWindowMs: 1, idleRecheckMs: 200 });
  },
});
