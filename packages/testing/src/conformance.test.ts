import { EventEmitter } from "node:events";
import { InMemoryServerCache } from "@mastra/core/cache";
import { CachingPubSub, EventEmitterPubSub, type PubSub } from "@mastra/core/events";
import { describePubSubConformance } from "./pubsub-conformance.ts";
import { describeServerCacheConformance } from "./server-cache-conformance.ts";

describeServerCacheConformance({
  name: "@mastra/core InMemoryServerCache",
  create: () => new InMemoryServerCache(),
});

describePubSubConformance({
  name: "@mastra/core EventEmitterPubSub",
  create: () => new EventEmitterPubSub(),
  capabilities: {
    ordered: true,
    // close() only removes the listeners (its JSDoc: "Clean up all listeners during graceful
    // shutdown"); a later publish() resolves and reaches nobody. Core's PubSub contract says
    // nothing about close(), so this is not a deviation from it, only from our stricter case.
    rejectsPublishAfterClose: false,
  },
});

// Instances of one namespace share an emitter and a cache, as processes share a backend, so the
// replay and cross-instance cases run against core's own replay layer too.
const sharedBackends = new Map<string, { emitter: EventEmitter; cache: InMemoryServerCache }>();

function sharedBackend(namespace: string): { emitter: EventEmitter; cache: InMemoryServerCache } {
  let backend = sharedBackends.get(namespace);
  if (backend === undefined) {
    backend = { emitter: new EventEmitter(), cache: new InMemoryServerCache() };
    sharedBackends.set(namespace, backend);
  }
  return backend;
}

describePubSubConformance({
  name: "@mastra/core CachingPubSub over EventEmitterPubSub and InMemoryServerCache",
  create: ({ namespace }) => {
    const backend = sharedBackend(namespace);
    return new CachingPubSub(new EventEmitterPubSub(backend.emitter), backend.cache);
  },
  destroy: async (pubsub: PubSub) => {
    await ((pubsub as CachingPubSub).getInner() as EventEmitterPubSub).close();
  },
  // Core's CachingPubSub has no close(): its inner PubSub is closed by the destroy hook above.
  capabilities: { ordered: true, replay: true, crossProcess: true, closable: false },
});
