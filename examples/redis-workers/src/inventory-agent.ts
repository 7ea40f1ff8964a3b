// The demo's agent, defined once so that the workers and the caller build the same one, as the
// workers and callers of an app share their agent definitions.
import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { createTool } from "@mastra/core/tools";
import { createInngestAgent, type InngestAgent } from "@mastra/inngest";
import { RedisPubSub, RedisStreamCache } from "@mastra/inngest/redis";
import { type ScriptTurn, scriptedModel } from "@mastra/inngest-testing/model";
import { Inngest } from "inngest";
import { z } from "zod";

/** Units in stock per warehouse: what the `countStock` tool answers. */
export const stock: Record<string, number> = { paris: 12, berlin: 7, tokyo: 30 };

/** How long the scripted model takes per streamed word, in milliseconds: the run lasts a few seconds. */
const wordDelayMs = 60;

// Three iterations that each say something and call the tool, then the answer.
const script: ScriptTurn[] = [
  {
    text: "Let me count the stock in each warehouse, starting with Paris. ",
    toolCalls: [{ toolName: "countStock", args: { city: "paris" } }],
  },
  { text: "Paris has 12 units. Now Berlin. ", toolCalls: [{ toolName: "countStock", args: { city: "berlin" } }] },
  { text: "Berlin has 7. Tokyo last. ", toolCalls: [{ toolName: "countStock", args: { city: "tokyo" } }] },
  { text: "Paris has 12 units, Berlin 7 and Tokyo 30: 49 units in stock across the three warehouses." },
];

/** The text the run streams, all iterations together. */
export const expectedText: string = script.map((turn) => turn.text).join("");

/** How many tool calls the run makes. */
export const expectedToolCalls: number = script.filter((turn) => turn.toolCalls !== undefined).length;

/** Where the durable agent runs and what it shares. */
export interface InventoryAgentOptions {
  /** The Inngest engine's URL (the local dev server here). */
  engineUrl: string;
  /** The Redis both the pubsub and the stream cache use, shared by every process. */
  redisUrl: string;
  /** The process's name, which the tool reports so that the demo shows where each tool call ran. */
  processName: string;
}

/** A durable agent registered with Mastra, and what closes its Redis connections. */
export interface InventoryAgent {
  durable: InngestAgent;
  mastra: Mastra;
  inngest: Inngest;
  /** Quits the Redis connections of the pubsub and the cache. */
  close(): Promise<void>;
}

const silent = { info() {}, warn() {}, error() {}, debug() {} };

/** The Mastra agent: a scripted model (no API key) and one tool. */
export function inventoryAgent(processName: string): Agent {
  const countStock = createTool({
    id: "countStock",
    description: "Counts the units in stock in a city's warehouse",
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }: { city: string }) => ({ city, units: stock[city] ?? 0, countedBy: processName }),
  });
  return new Agent({
    id: "inventory",
    name: "Inventory",
    instructions: "Count the stock of every warehouse, then give the total.",
    model: scriptedModel(script, { delayMs: wordDelayMs }),
    tools: { countStock },
  });
}

/**
 * The durable agent of one process, with Redis for both the live events (`RedisPubSub`) and their
 * history and the run records (`RedisStreamCache`), so that a run started by one process streams
 * from steps that run in any other.
 */
export function createInventoryAgent(options: InventoryAgentOptions): InventoryAgent {
  const inngest = new Inngest({ id: "redis-workers", isDev: true, baseUrl: options.engineUrl, logger: silent });
  // Both own the connections they open from the URL and quit them on close().
  const pubsub = new RedisPubSub({ url: options.redisUrl });
  const cache = new RedisStreamCache({ url: options.redisUrl });
  const durable = createInngestAgent({ agent: inventoryAgent(options.processName), inngest, pubsub, cache });
  const mastra = new Mastra({ agents: { inventory: durable }, logger: false });
  return {
    durable,
    mastra,
    inngest,
    async close() {
      // Closes the stream cache's wrapper and, through it, the RedisPubSub.
      await durable.pubsub.close();
      await cache.close();
    },
  };
}
