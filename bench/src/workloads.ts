import { Agent } from "@mastra/core/agent";
import { createTool } from "@mastra/core/tools";
import { scriptedModel } from "@mastra/inngest-testing/model";
import { z } from "zod";

/** One workload: how many tool iterations and how many calls each makes. */
export interface Workload {
  /** A short name for tables. */
  name: string;
  /** LLM calls that end in tool calls before the final answer. */
  toolIterations: number;
  /** Tool calls per tool iteration (run in parallel). */
  callsPerIteration: number;
}

/** The workloads of the agent-run benchmark. */
export const workloads: Workload[] = [
  { name: "text only", toolIterations: 0, callsPerIteration: 0 },
  { name: "5 tool iterations", toolIterations: 5, callsPerIteration: 1 },
  { name: "3 parallel tools", toolIterations: 1, callsPerIteration: 3 },
];

/** Text deltas per LLM call, fixed so every system streams the same chunks. */
export const deltasPerCall = 20;

/** The text of LLM call `index`: twenty word deltas that name the call. */
export function callText(index: number): string {
  return Array.from({ length: deltasPerCall }, (_, word) => `c${index}w${word}`).join(" ");
}

const getWeather = createTool({
  id: "getWeather",
  description: "The weather of a city",
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, tempC: 21 }),
});

/**
 * A fresh agent for a workload. The scripted model is stateless (it picks its turn from the
 * assistant messages in the prompt), so a worker in another process answers the same way.
 */
export function createBenchAgent(workload: Workload, delayMs: number, id = "bench"): Agent {
  const turns = Array.from({ length: workload.toolIterations }, (_, index) => ({
    text: callText(index),
    toolCalls: Array.from({ length: workload.callsPerIteration }, (_, call) => ({
      toolName: "getWeather",
      args: { city: `City${index}.${call}` },
    })),
  }));
  turns.push({ text: callText(workload.toolIterations), toolCalls: [] });
  return new Agent({
    id,
    name: "Bench",
    instructions: "Answer about the weather.",
    model: scriptedModel(turns, { delayMs }) as never,
    tools: { getWeather },
  });
}
