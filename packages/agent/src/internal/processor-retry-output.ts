import { MessageList } from "@mastra/core/agent";
import type { DurableLLMStepOutput } from "@mastra/core/agent/durable";
import type { TripwireData } from "./core-durable/index.ts";
import { processorRetryFeedback } from "./processor-retries.ts";
import type { StreamChunk } from "./step-publisher.ts";

/** What an output processor decided about a step: send it back, or end the run there. */
export type ProcessorDecision = { kind: "retry" | "stop"; tripwire: TripwireData };

/** The step result fields the plain loop gives a step an output processor sent back or stopped. */
function decidedStepResult(stepResult: object | undefined, decision: ProcessorDecision): Record<string, unknown> {
  const { kind, tripwire } = decision;
  if (kind === "stop") {
    return { ...stepResult, reason: "tripwire", isContinued: false };
  }
  return {
    ...stepResult,
    reason: "retry",
    isContinued: true,
    retryReason: tripwire.reason,
    ...(tripwire.metadata === undefined ? {} : { retryMetadata: tripwire.metadata }),
    ...(tripwire.processorId === undefined ? {} : { retryProcessorId: tripwire.processorId }),
  };
}

/**
 * A `step-finish` chunk as the plain loop streams it for a step an output processor sent back
 * (reason `retry`) or stopped (reason `tripwire`), with the tripwire on its last step: that is how
 * the output leaves the step's text out of the step.
 */
export function decidedStepFinish(chunk: StreamChunk, decision: ProcessorDecision): StreamChunk {
  if (chunk.type !== "step-finish") {
    return chunk;
  }
  const payload = chunk.payload ?? {};
  const output = (payload.output ?? {}) as { steps?: unknown[] };
  // The output class reads the tripwire off the last of these steps; core's chunk lists none.
  const steps = Array.isArray(output.steps) && output.steps.length > 0 ? [...output.steps] : [{}];
  const last = steps.length - 1;
  steps[last] = { ...(steps[last] as object), tripwire: decision.tripwire };
  return {
    ...chunk,
    payload: {
      ...payload,
      stepResult: decidedStepResult(payload.stepResult as object | undefined, decision),
      output: { ...output, steps },
    },
  };
}

/**
 * The LLM step's output once an output processor decided about it. Sent back: the rejected response
 * leaves the message list (it goes back to `base`, the list the step started from), the model gets
 * the plain loop's feedback as a system message, and the loop goes on with the retry count one
 * higher. Stopped: the run ends with reason `tripwire`, the response kept. No tool call runs.
 */
export function decidedLLMOutput(options: {
  output: DurableLLMStepOutput;
  decision: ProcessorDecision;
  retryCount: number;
  base: unknown;
}): DurableLLMStepOutput {
  const { output, decision, retryCount, base } = options;
  const deferred = output.deferredStepFinishChunk as StreamChunk | undefined;
  const decided = {
    ...output,
    toolCalls: [],
    stepResult: decidedStepResult(output.stepResult, decision) as DurableLLMStepOutput["stepResult"],
    ...(deferred === undefined ? {} : { deferredStepFinishChunk: decidedStepFinish(deferred, decision) }),
  };
  if (decision.kind === "stop") {
    return decided;
  }
  const feedback = processorRetryFeedback(decision.tripwire.reason ?? "");
  // A copy: the list adopts the state's objects, and `base` is what the step's memo is a delta of.
  // The serialized state restores its own ids and memory keys.
  const list = new MessageList().deserialize(structuredClone(base) as Parameters<MessageList["deserialize"]>[0]);
  list.addSystem(feedback, "processor-retry-feedback");
  return {
    ...decided,
    messageListState: list.serialize(),
    processorRetryCount: retryCount + 1,
    processorRetryFeedback: feedback,
  };
}
