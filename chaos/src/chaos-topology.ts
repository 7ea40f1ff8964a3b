import { Mastra } from "@mastra/core/mastra";
import { createInngestAgent, type InngestAgent } from "@mastra/inngest-agent";
import { RedisPubSub } from "@mastra/inngest-pubsub-redis";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { chaosAgent } from "./chaos-agent.ts";
import { ScaledRetentionCache } from "./scaled-retention-cache.ts";

/** The Inngest app id of every process of the suite. */
export const chaosInngestId = "chaos";

/**
 * The loop function's options: more retries than the default 3, so a run whose steps meet several
 * faults in a row still completes, which the model of the workload expects.
 */
export const chaosFunctionOptions: Record<string, unknown> = { retries: 10 };

/** The caller's side of the topology: the durable agent and what it owns. */
export interface ChaosCaller {
  agent: InngestAgent;
  cache: ScaledRetentionCache;
  close(): Promise<void>;
}

/**
 * The caller in the test process: the same agent and all-Redis topology as the workers, with its
 * own connections, so Redis faults hit it too. It starts, resumes and observes runs.
 */
export function createChaosCaller(options: {
  engineUrl: string;
  redisUrl: string;
  executionsLog: string;
  retentionDivisor: number;
}): ChaosCaller {
  // Faults make every component warn, on purpose: the logs would bury the suite's report.
  const inngest = new Inngest({ id: chaosInngestId, isDev: true, baseUrl: options.engineUrl, logger: silentLogger });
  const cache = new ScaledRetentionCache({ url: options.redisUrl, retentionDivisor: options.retentionDivisor });
  const agent = createInngestAgent({
    agent: chaosAgent(options.executionsLog),
    inngest,
    cache,
    pubsub: new RedisPubSub({ url: options.redisUrl, logger: silentLogger }),
  });
  new Mastra({ agents: { chaos: agent as never }, logger: false });
  return {
    agent,
    cache,
    async close() {
      await agent.pubsub.close();
      await cache.close();
    },
  };
}
