import type {
  BaseIterationState,
  DurableAgenticExecutionOutput,
  DurableLLMStepOutput,
  DurableToolCallOutput,
} from "@mastra/core/agent/durable";
import { compactMappingOutput, expandMappingOutput } from "./compact-outputs.ts";
import { type CoreSteps, callerStopConditions, nextIterationState, type RunInput } from "./core-durable/index.ts";
import type { DurableStep } from "./loop-context.ts";

/**
 * The mapping step `map:<index>`: core's mapping of the LLM output and tool results into the next
 * iteration's state, and the caller's early stop (`stopWhen`, abort). The next iteration answers in
 * the same assistant message, as the plain loop's does.
 */
export async function runMappingPhase(options: {
  durable: DurableStep;
  steps: CoreSteps;
  index: number;
  input: RunInput;
  iteration: BaseIterationState;
  llm: DurableLLMStepOutput;
  toolResults: DurableToolCallOutput[];
}): Promise<DurableAgenticExecutionOutput> {
  const { durable, steps, index, input, iteration, llm, toolResults } = options;
  const runId = input.runId;
  const inputs = { toolResults, toolCalls: llm.toolCalls };
  const memo = await durable(`map:${index}`, async (_publisher, environment) => {
    const output = await steps.mapping(environment, {
      llmOutput: { ...llm, messageListState: structuredClone(llm.messageListState) },
      toolResults,
      runId,
      agentId: input.agentId,
      messageId: iteration.messageId ?? input.messageId,
      state: llm.state ?? input.state,
    });
    let mapped = output;
    if (output.stepResult?.isContinued && (await shouldStopEarly(runId, iteration, output))) {
      // Decided inside the step and memoized, so every replay follows the same path.
      mapped = { ...output, stepResult: { ...output.stepResult, isContinued: false } };
    }
    return compactMappingOutput(mapped, llm.messageListState, inputs);
  });
  return expandMappingOutput(memo, llm.messageListState, inputs);
}

/**
 * Whether the caller's `stopWhen` holds or the caller aborted: both live in the caller's run
 * registry entry (a worker in another process never sees `stopWhen`: the run fails there, naming it).
 */
async function shouldStopEarly(
  runId: string,
  iteration: BaseIterationState,
  output: DurableAgenticExecutionOutput,
): Promise<boolean> {
  const { stopWhen, aborted } = callerStopConditions(runId);
  if (aborted) {
    return true;
  }
  if (stopWhen.length === 0) {
    return false;
  }
  const { accumulatedSteps } = nextIterationState(iteration, output);
  const results = await Promise.all(stopWhen.map((condition) => condition({ steps: accumulatedSteps })));
  return results.some(Boolean);
}
