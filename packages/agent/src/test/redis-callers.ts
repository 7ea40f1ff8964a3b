import type { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { InMemoryStore } from "@mastra/core/storage";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { type RedisServer, startRedis } from "@mastra/inngest-testing";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { createInngestAgent } from "../create-inngest-agent.ts";
import type { CreateInngestAgentOptions } from "../inngest-agent-options.ts";
import type { InngestAgent } from "../inngest-agent-types.ts";
import { startTestWorld, type TestWorld } from "./test-world.ts";

/** Two agent instances (as in two processes) that share nothing but a Redis of their own. */
export interface RedisCallers {
  world: TestWorld;
  redis: RedisServer;
  /** The callers; the first also serves the agent's functions. */
  callers: InngestAgent[];
  /** Each caller's cache, on the shared Redis. */
  caches: RedisStreamCache[];
  close(): Promise<void>;
}

/**
 * Starts a Redis, the engine, and two durable agents made by `agent()` (one instance each, with
 * the memory they are given standing for the database two processes would share), the first
 * serving the functions. `fetch` goes to both Inngest clients. Test support only.
 */
export async function startRedisCallers(options: {
  appId: string;
  agent: () => Agent;
  agentOptions?: Pick<CreateInngestAgentOptions, "functionOptions">;
  fetch?: typeof fetch;
}): Promise<RedisCallers> {
  const redis = await startRedis();
  const world = await startTestWorld();
  const callers: InngestAgent[] = [];
  const caches: RedisStreamCache[] = [];
  for (const serving of [true, false]) {
    const inngest = new Inngest({
      id: options.appId,
      isDev: true,
      baseUrl: world.engine.url,
      logger: silentLogger,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
    const cache = new RedisStreamCache({ url: redis.url, keyPrefix: options.appId });
    caches.push(cache);
    const agent = options.agent();
    const durable = createInngestAgent({ agent, inngest, cache, ...options.agentOptions });
    new Mastra({ agents: { [agent.id]: durable as never }, storage: new InMemoryStore() as never, logger: false });
    callers.push(durable);
    if (serving) {
      await world.serve(inngest, durable.getInngestFunctions());
    }
  }
  return {
    world,
    redis,
    callers,
    caches,
    async close() {
      for (const caller of callers) {
        await caller.pubsub.close();
      }
      for (const cache of caches) {
        await cache.close();
      }
      await world.close();
      await redis.kill();
    },
  };
}
