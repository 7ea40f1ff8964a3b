import { Mastra } from "@mastra/core/mastra";
import { createInngestAgent, type InngestAgent } from "@mastra/inngest";
import { RedisPubSub, RedisStreamCache } from "@mastra/inngest/redis";
import { Inngest } from "inngest";
import { createSupportAgent } from "./agent.ts";

/** Where the durable agent runs and what it shares. */
export interface DurableSupportOptions {
  /** The Inngest engine: the local dev server's URL (dev mode). */
  engineUrl: string;
  /**
   * A Redis for the run's live events, history and records, shared by every process of the app,
   * so a restarted process (or another replica) continues and replays the runs of the one before.
   * Without it, the history lives in this process's memory and Inngest Realtime carries the events.
   */
  redisUrl?: string | undefined;
  /** The environment the model is chosen from (`OPENAI_API_KEY`). @default process.env */
  environment?: NodeJS.ProcessEnv;
}

/** The durable support agent, its Mastra instance and Inngest client, and what closes its connections. */
export interface DurableSupport {
  durable: InngestAgent;
  mastra: Mastra;
  inngest: Inngest.Any;
  /** A label for the model: scripted, or the provider's model id. */
  model: string;
  /** Closes the PubSub and the cache, and the Redis connections they opened. */
  close(): Promise<void>;
}

const silentLogger = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * The support agent wrapped with `createInngestAgent()` and registered with Mastra.
 *
 * @example
 * const { durable, mastra, inngest } = createDurableSupport({ engineUrl: "http://127.0.0.1:8288" });
 */
export function createDurableSupport(options: DurableSupportOptions): DurableSupport {
  const inngest = new Inngest({ id: "chat-example", isDev: true, baseUrl: options.engineUrl, logger: silentLogger });
  const { agent, model } = createSupportAgent(options.environment);
  // Both open their own connections from the URL and quit them on close().
  const pubsub = options.redisUrl === undefined ? undefined : new RedisPubSub({ url: options.redisUrl });
  const cache = options.redisUrl === undefined ? undefined : new RedisStreamCache({ url: options.redisUrl });
  const durable = createInngestAgent({ agent, inngest, ...(pubsub && cache ? { pubsub, cache } : {}) });
  const mastra = new Mastra({ agents: { support: durable }, logger: false });
  return {
    durable,
    mastra,
    inngest,
    model,
    async close() {
      // Closes the stream cache's wrapper and, through it, the PubSub; then the Redis cache.
      await durable.pubsub.close();
      await cache?.close();
    },
  };
}
