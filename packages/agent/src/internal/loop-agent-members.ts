import type { AnyAgent } from "../inngest-agent-options.ts";
import { currentLLMCall } from "./llm-call-scope.ts";
import { withProcessorRetries } from "./processor-retries.ts";
import { withRawChunks } from "./raw-chunks.ts";

/** The agent members core's LLM step reads the run's model and output processors through. */
export type LoopAgentMembers = Pick<AnyAgent, "getModel" | "getModelList" | "listOutputProcessors">;

/**
 * A worker's LLM step rebuilds the run's model and output processors from the agent its Mastra
 * knows by the durable agent's id, which is the durable agent: these members give them inside an
 * LLM call of the loop as the caller's registry entry gives them (raw parts passed on, processor
 * retries), and everywhere else exactly as the agent does.
 */
export function loopAgentMembers(agent: AnyAgent): LoopAgentMembers {
  return {
    getModel: async (options) => {
      const model = await agent.getModel(options);
      return currentLLMCall() === undefined ? model : withRawChunks(model);
    },
    getModelList: async (requestContext) => {
      const list = await agent.getModelList(requestContext);
      return currentLLMCall() === undefined ? list : withRawChunksInList(list);
    },
    listOutputProcessors: async (requestContext) => {
      const processors = await agent.listOutputProcessors(requestContext);
      return currentLLMCall() === undefined ? processors : withProcessorRetries(processors);
    },
  };
}

/** A model list (fallback models) with each entry's model passing raw parts on. */
export function withRawChunksInList<T>(list: T): T {
  if (!Array.isArray(list)) {
    return list;
  }
  return list.map((entry: unknown) =>
    entry !== null && typeof entry === "object" && "model" in entry
      ? { ...entry, model: withRawChunks((entry as { model: unknown }).model) }
      : entry,
  ) as T;
}
