import type { MastraServerCache } from "@mastra/core/cache";
import type { PubSub } from "@mastra/core/events";
import { Mastra } from "@mastra/core/mastra";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { type RedisServer, startRedis } from "@mastra/inngest-testing";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { createInngestAgent } from "../create-inngest-agent.ts";
import type { InngestAgent } from "../inngest-agent-types.ts";
import { bank } from "./bank-agent.ts";
import { startTestWorld, type TestWorld } from "./test-world.ts";

/** The bank agent served by the engine, with its run history on a Redis of the test's own. */
export interface BankOnRedis<Cache extends MastraServerCache> {
  redis: RedisServer;
  world: TestWorld;
  inngest: Inngest.Any;
  agent: InngestAgent;
  cache: Cache;
  /** Closes the agent's transport, its cache, the engine and the app, then stops Redis. */
  close(): Promise<void>;
}

/**
 * Starts a Redis, the engine (checkpointing, at `timeScale`), and the bank agent of the Inngest app
 * `appId` on the cache `cache(url)` makes (a `RedisStreamCache` by default) and, when given, the
 * transport `pubsub(url)` makes; serves its functions. Test support only.
 */
export async function startBankOnRedis<Cache extends MastraServerCache = RedisStreamCache>(options: {
  appId: string;
  timeScale?: number;
  cache?: (url: string) => Cache;
  pubsub?: (url: string) => PubSub;
}): Promise<BankOnRedis<Cache>> {
  const redis = await startRedis();
  const world = await startTestWorld("checkpoint", options.timeScale);
  const inngest = new Inngest({ id: options.appId, isDev: true, baseUrl: world.engine.url, logger: silentLogger });
  const cache = options.cache?.(redis.url) ?? (new RedisStreamCache({ url: redis.url }) as unknown as Cache);
  const agent = createInngestAgent({
    agent: bank(),
    inngest,
    cache,
    ...(options.pubsub === undefined ? {} : { pubsub: options.pubsub(redis.url) }),
  });
  new Mastra({ agents: { bank: agent }, logger: false });
  await world.serve(inngest, agent.getInngestFunctions());
  return {
    redis,
    world,
    inngest,
    agent,
    cache,
    async close() {
      await agent.pubsub.close();
      await (cache as { close?: () => Promise<void> }).close?.();
      await world.close();
      await redis.stop();
    },
  };
}
