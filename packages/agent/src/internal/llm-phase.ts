import type { BaseIterationState, DurableLLMStepOutput } from "@mastra/core/agent/durable";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { NonRetriableError } from "inngest";
import { type Compacted, compactLLMOutput } from "./compact-outputs.ts";
import { type CoreSteps, llmStepAbort, publishChunk, type RunInput, type TripwireData } from "./core-durable/index.ts";
import { type LLMCallScope, runInLLMCall } from "./llm-call-scope.ts";
import type { DurableStep, LoopContext } from "./loop-context.ts";
import { processorDecision } from "./processor-retries.ts";
import { decidedLLMOutput, decidedStepFinish } from "./processor-retry-output.ts";
import { restoreRawChunk } from "./raw-chunks.ts";
import { endSpansAtAbort } from "./run-spans-end.ts";
import type { StepPublisher } from "./step-publisher.ts";
import { packageName } from "./stream-input.ts";
import { withoutUnreportedUsage } from "./unreported-usage.ts";

/**
 * The input of one LLM call: the run input with this iteration's state, the steps so far, and how
 * many times an output processor sent this step back already.
 */
export type LLMInput = RunInput & Pick<BaseIterationState, "accumulatedSteps"> & { processorRetryCount?: number };

/** An LLM step's output as the loop reads it: core's, with the error that ended the call, if one did. */
export type LLMOutput = DurableLLMStepOutput & { runError?: { name: string; message: string } };

/** One LLM call of the loop, as the step `llm:<index>` memoizes it. */
export function runLLMPhase(options: {
  context: LoopContext;
  durable: DurableStep;
  steps: CoreSteps;
  index: number;
  input: RunInput;
  /** The run input with this iteration's state. */
  llmInput: LLMInput;
}): Promise<Compacted<LLMOutput>> {
  const { context, durable, steps, index, input, llmInput } = options;
  const runId = input.runId;
  const base = llmInput.messageListState;
  return durable(`llm:${index}`, async (publisher, environment) => {
    const callerHere = context.callerRuns.has(runId);
    if (index > 0) {
      // The history is refreshed by every event; the record and claim, by every step.
      await context.records.keepAlive(runId);
    }
    if (index === 0) {
      // Only the input of the claim that won runs: a second prepare() of the id, or an event made by
      // hand, is refused here, before the run does anything.
      // A cache that is not shared cannot know a claim made in another process: the check needs one.
      const claimant = await context.records.readClaimant(runId);
      const unclaimed = claimant === undefined ? context.sharedCache() : claimant.claimId !== input.claimId;
      if (unclaimed) {
        throw new NonRetriableError(
          `[${packageName}] run ${runId} was not started by the claim of its run id: start runs with stream(), or send the input prepare() returned as it is (${ErrorCode.RUN_FORBIDDEN})`,
          {
            cause: new MastraInngestError(`[${packageName}] run ${runId}: the claim does not match`, {
              code: ErrorCode.RUN_FORBIDDEN,
            }),
          },
        );
      }
      const closures = input.callerOnlyOptions ?? [];
      if (closures.length > 0 && !callerHere) {
        throw new NonRetriableError(
          `[${packageName}] run ${runId} uses ${closures.join(", ")}, which only exist in the caller's process, and this step runs in another one; register tools on the agent or on Mastra instead of passing them per call, or serve the agent from the caller's process (${ErrorCode.NOT_SERIALIZABLE_OPTION})`,
          {
            cause: new MastraInngestError(`[${packageName}] ${closures.join(", ")} cannot reach another process`, {
              code: ErrorCode.NOT_SERIALIZABLE_OPTION,
            }),
          },
        );
      }
      await context.records.write(runId, context.agentId, "running", claimant === undefined ? {} : { owner: claimant });
      // The start chunk belongs to the first step: emitted by the caller, it would take an index
      // the worker does not know of.
      await publishChunk(publisher, runId, {
        type: "start",
        payload: { id: input.agentId, messageId: input.messageId },
      });
    }
    if (index === 0 && input.tripwire !== undefined && !callerHere) {
      return compactLLMOutput(await stopAtTripwire(publisher, runId, input.tripwire, llmInput), base);
    }
    const scope: LLMCallScope = {
      retryCount: llmInput.processorRetryCount ?? 0,
      maxRetries: input.options?.maxProcessorRetries,
    };
    // Core publishes the step's `step-finish` after the output processors ran, so what they
    // decided is known by then.
    // Core's step reports a model's failure only as an `error` chunk; the run's trace ends with it.
    let runError: LLMOutput["runError"];
    publisher.rewriteChunks((published) => {
      if (published.type === "error") {
        const error = (published.payload as { error?: { name?: string; message?: string } } | undefined)?.error;
        runError = { name: error?.name ?? "Error", message: error?.message ?? "" };
      }
      // The plain loop keeps the provider's response metadata to itself (its step results carry it).
      if (published.type === "response-metadata") {
        return undefined;
      }
      const chunk = withoutUnreportedUsage(restoreRawChunk(published));
      const decision = processorDecision(scope);
      return decision === undefined ? chunk : decidedStepFinish(chunk, decision);
    });
    // The step gets its own copy: the delta is taken against the list as it was before the step.
    const output = await runInLLMCall(scope, () =>
      steps.llm(environment, { ...llmInput, messageListState: structuredClone(base) }),
    );
    const abort = llmStepAbort(output);
    if (abort.aborted) {
      // Inngest stops the run after this step: its spans end here.
      const { generationEnded } = abort;
      await endSpansAtAbort({ records: context.records, runId, spans: llmInput, environment, generationEnded });
    }
    const decision = processorDecision(scope);
    const decided =
      decision === undefined ? output : decidedLLMOutput({ output, decision, retryCount: scope.retryCount, base });
    const traced: LLMOutput = runError === undefined ? decided : { ...decided, runError };
    return compactLLMOutput(withoutProviderRequest(traced), base);
  });
}

/**
 * The LLM output without the provider request (the whole prompt again, in the step result and in
 * the response metadata): no later step reads it, the loop state drops it, and the stream's
 * chunks carry what the plain agent's carry, so memoizing it would store the prompt once more per call.
 */
function withoutProviderRequest<Output extends DurableLLMStepOutput>(output: Output): Output {
  const { request: _request, ...stepResult } = output.stepResult ?? {};
  const { request: _metadataRequest, ...metadata } = output.metadata ?? {};
  return {
    ...output,
    ...(output.stepResult === undefined ? {} : { stepResult: stepResult as DurableLLMStepOutput["stepResult"] }),
    ...(output.metadata === undefined ? {} : { metadata }),
  };
}

/**
 * Ends the first LLM step at an input processor's tripwire, as core's step does when it finds the
 * tripwire in the caller's registry entry: a `tripwire` chunk and a step result without a model call.
 */
async function stopAtTripwire(
  publisher: StepPublisher,
  runId: string,
  tripwire: TripwireData,
  input: RunInput,
): Promise<DurableLLMStepOutput> {
  await publishChunk(publisher, runId, {
    type: "tripwire",
    payload: {
      reason: tripwire.reason ?? "",
      retry: tripwire.retry,
      metadata: tripwire.metadata,
      processorId: tripwire.processorId,
    },
  });
  return {
    messageListState: input.messageListState,
    text: "",
    toolCalls: [],
    stepResult: { reason: "tripwire", warnings: [], isContinued: false },
    metadata: {},
    state: input.state,
  };
}
