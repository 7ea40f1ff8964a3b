import { TripWire } from "@mastra/core/agent";
import type { TripwireData } from "./core-durable/index.ts";
import { currentLLMCall, type LLMCallScope } from "./llm-call-scope.ts";
import { isOverridden, overrideMember } from "./override-member.ts";

/** What the output processors of one LLM call decided, if any of them tripped. */
export function processorDecision(scope: LLMCallScope): { kind: "retry" | "stop"; tripwire: TripwireData } | undefined {
  if (scope.requested !== undefined) {
    return { kind: "retry", tripwire: scope.requested };
  }
  return scope.stopped === undefined ? undefined : { kind: "stop", tripwire: scope.stopped };
}

/** The feedback the plain loop gives the model before it retries a step a processor rejected. */
export function processorRetryFeedback(reason: string): string {
  return `[Processor Feedback] Your previous response was not accepted: ${reason}. Please try again with the feedback in mind.`;
}

type OutputProcessorLike = { id?: string; processOutputStep?: (args: Record<string, unknown>) => unknown };
type WorkflowRunLike = { start: (options: { inputData?: Record<string, unknown> }) => Promise<WorkflowResultLike> };
type WorkflowResultLike = { status: string; result?: unknown; tripwire?: TripwireData };
type ProcessorWorkflowLike = { createRun: (...args: unknown[]) => Promise<WorkflowRunLike> };

/**
 * The output processors taking part in retries: inside an LLM call of the loop, `processOutputStep`
 * gets the step's `retryCount`, and its tripwire is recorded on the scope, as a retry when it asked
 * for one within `maxProcessorRetries`, else as the end of the run (the processors after it are
 * skipped, as the plain loop's runner stops at the first tripwire). Agents hand their processors over combined in one processor
 * workflow, whose runs are wrapped the same way. Outside the loop they behave as they are.
 */
export function withProcessorRetries<T>(processors: T): T {
  if (!Array.isArray(processors)) {
    return processors;
  }
  return processors.map((processor) => retrying(processor)) as T;
}

function retrying(processor: unknown): unknown {
  if (processor === null || typeof processor !== "object" || isOverridden(processor)) {
    return processor;
  }
  const candidate = processor as OutputProcessorLike & Partial<ProcessorWorkflowLike>;
  if (typeof candidate.processOutputStep === "function") {
    return overrideMember(candidate, "processOutputStep", retryingStep(candidate, candidate.processOutputStep));
  }
  if (typeof candidate.createRun === "function") {
    const createRun = candidate.createRun;
    return overrideMember(candidate, "createRun", async (...args: unknown[]) => {
      const run = await createRun.apply(candidate, args);
      return overrideMember(run, "start", retryingWorkflowStart(run));
    });
  }
  return processor;
}

/** Whether a processor of this call already sent the step back or ended the run. */
function decided(scope: LLMCallScope): boolean {
  return scope.requested !== undefined || scope.stopped !== undefined;
}

/** Records a processor's tripwire: a retry when it asked for one and one is left, else the end. */
function record(scope: LLMCallScope, tripwire: TripwireData): void {
  const mayRetry = scope.maxRetries !== undefined && scope.retryCount < scope.maxRetries;
  if (tripwire.retry === true && mayRetry) {
    scope.requested = tripwire;
  } else {
    scope.stopped = tripwire;
  }
}

function retryingStep(
  processor: OutputProcessorLike,
  original: (args: Record<string, unknown>) => unknown,
): (args: Record<string, unknown>) => Promise<unknown> {
  return async (args) => {
    const scope = currentLLMCall();
    if (scope === undefined) {
      return original.call(processor, args);
    }
    if (decided(scope)) {
      return args.messageList;
    }
    try {
      return await original.call(processor, { ...args, retryCount: scope.retryCount });
    } catch (error) {
      const tripped = error instanceof TripWire;
      if (!tripped) {
        throw error;
      }
      record(scope, {
        reason: error.message,
        ...(error.options?.retry === undefined ? {} : { retry: error.options.retry }),
        ...(error.options?.metadata === undefined ? {} : { metadata: error.options.metadata }),
        ...(error.processorId === undefined ? {} : { processorId: error.processorId }),
      });
      return args.messageList;
    }
  };
}

function retryingWorkflowStart(run: WorkflowRunLike): WorkflowRunLike["start"] {
  return async (options) => {
    const scope = currentLLMCall();
    if (scope === undefined || options.inputData?.phase !== "outputStep") {
      return run.start(options);
    }
    if (decided(scope)) {
      return { status: "success" };
    }
    const result = await run.start({ ...options, inputData: { ...options.inputData, retryCount: scope.retryCount } });
    if (result.status !== "tripwire") {
      return result;
    }
    record(scope, { ...result.tripwire, reason: result.tripwire?.reason ?? "" });
    // Core's runner ignores what an output-step workflow returns; a success only lets it go on.
    return { ...result, status: "success", result: undefined };
  };
}
