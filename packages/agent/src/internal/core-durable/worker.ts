import {
  type AgentFinishEventData,
  type BaseIterationState,
  createBaseIterationStateUpdate,
  createDurableLLMExecutionStep,
  createDurableLLMMappingStep,
  createDurableToolCallStep,
  type DurableAgenticExecutionOutput,
  type DurableLLMStepOutput,
  DurableStepIds,
  type DurableToolCallInput,
  type DurableToolCallOutput,
  emitChunkEvent,
  emitErrorEvent,
  emitFinishEvent,
  resolveDurableToolCallConcurrency,
  runDurableFinishSideEffects,
} from "@mastra/core/agent/durable";
import type { PubSub } from "@mastra/core/events";
import { RequestContext } from "@mastra/core/request-context";
import type { ChunkType } from "@mastra/core/stream";
import { PUBSUB_SYMBOL } from "@mastra/core/workflows/_constants";

import type { RunInput, StepEnvironment } from "./run-input.ts";

// The one place where this package calls `@mastra/core/agent/durable`. Core's durable pieces are
// typed for its own workflow engine (step contexts, registry entries with fields it sets itself);
// each cast below says which of those shapes this package fills in part, and why that is enough.
/** Publishes one chunk on the run's stream topic. */
export function publishChunk(pubsub: PubSub, runId: string, chunk: { type: string; payload: unknown }): Promise<void> {
  // Every chunk this package makes is one of core's chunk types; the union is too wide to build by hand.
  return emitChunkEvent(pubsub, runId, { ...chunk, runId, from: "AGENT" } as ChunkType);
}

/** Publishes the run's error event. */
export function publishError(pubsub: PubSub, runId: string, error: Error): Promise<void> {
  return emitErrorEvent(pubsub, runId, error);
}

/** Publishes the run's finish event. */
export function publishFinish(pubsub: PubSub, runId: string, data: AgentFinishEventData): Promise<void> {
  return emitFinishEvent(pubsub, runId, data);
}

/** The request context a worker rebuilds from the serialized entries of the run input. */
export function requestContextOf(input: RunInput): RequestContext {
  // Core serializes entries as a plain object; its constructor takes the pairs of any map.
  return new RequestContext(Object.entries(input.requestContextEntries ?? {}) as Array<[never, unknown]>);
}

/** The loop state of a run before its first iteration. */
export function initialIterationState(input: RunInput): BaseIterationState {
  // The iteration state extends the workflow input: core's own loop starts from the input the same way.
  return {
    ...(input as unknown as BaseIterationState),
    iterationCount: 0,
    accumulatedSteps: [],
    accumulatedUsage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
    lastStepResult: undefined,
  };
}

/** The loop state after one iteration. */
export function nextIterationState(
  currentState: BaseIterationState,
  executionOutput: DurableAgenticExecutionOutput,
): BaseIterationState {
  return createBaseIterationStateUpdate({ currentState, executionOutput });
}

/** How many tool calls of an iteration run at once: core's rule. */
export function toolCallConcurrency(input: RunInput, toolCalls: DurableToolCallInput[]): number {
  return resolveDurableToolCallConcurrency({ options: input.options, toolsMetadata: input.toolsMetadata, toolCalls });
}

/** Core's side effects at the end of a run: output processors, memory, title generation. */
export function finishSideEffects(options: {
  runId: string;
  input: RunInput;
  iteration: BaseIterationState;
  environment: StepEnvironment;
}): ReturnType<typeof runDurableFinishSideEffects> {
  const { runId, input, iteration, environment } = options;
  const lastStep = iteration.accumulatedSteps.at(-1);
  return runDurableFinishSideEffects({
    runId,
    initData: input,
    messageListState: iteration.messageListState,
    ...(environment.mastra === undefined ? {} : { mastra: environment.mastra }),
    requestContext: environment.requestContext,
    tracingContext: {},
    outputResult: {
      text: lastStep?.text ?? "",
      usage: iteration.accumulatedUsage,
      finishReason: iteration.lastStepResult?.reason ?? "unknown",
      // Core's step records, which its output result takes as the AI SDK's steps.
      steps: iteration.accumulatedSteps as never,
    },
  });
}

/** Core's durable step functions, run outside core's workflow engine. */
export interface CoreSteps {
  llm(environment: StepEnvironment, inputData: RunInput & Partial<BaseIterationState>): Promise<DurableLLMStepOutput>;
  tool(
    environment: StepEnvironment,
    inputData: DurableToolCallInput & { stepSpanData?: unknown },
    extras: {
      getInitData: () => RunInput;
      suspend: (payload: unknown) => Promise<void>;
      resumeData?: unknown;
      suspendData?: unknown;
    },
  ): Promise<DurableToolCallOutput>;
  mapping(environment: StepEnvironment, inputData: Record<string, unknown>): Promise<DurableAgenticExecutionOutput>;
}

/** Creates core's LLM, tool and mapping steps once, for one loop function. */
export function createCoreSteps(): CoreSteps {
  const llmStep = createDurableLLMExecutionStep();
  const toolStep = createDurableToolCallStep();
  const mappingStep = createDurableLLMMappingStep();
  // A workflow step's context has some thirty members; core's durable steps read the input, the
  // PubSub under PUBSUB_SYMBOL, Mastra, the request context, the tracing context and, for tools,
  // suspend/resume. Those are given; the rest belong to core's workflow engine.
  const parameters = (environment: StepEnvironment, inputData: unknown, extras: object = {}): never =>
    ({
      mastra: environment.mastra,
      requestContext: environment.requestContext,
      tracingContext: {},
      [PUBSUB_SYMBOL]: environment.publisher,
      inputData,
      ...extras,
    }) as never;
  return {
    llm: async (environment, inputData) =>
      (await llmStep.execute(parameters(environment, inputData))) as DurableLLMStepOutput,
    tool: async (environment, inputData, extras) =>
      (await toolStep.execute(parameters(environment, inputData, extras))) as DurableToolCallOutput,
    mapping: async (environment, inputData) =>
      (await mappingStep.execute(parameters(environment, inputData))) as DurableAgenticExecutionOutput,
  };
}

/**
 * Core's acknowledgements of a background dispatch, including a retried step that restarted the
 * task it had dispatched, and a resumed suspended task: both publish no `background-task-started`,
 * so the text is all there is to know them by. `core-text-pins.test.ts` fails when core changes it.
 */
export const BACKGROUND_ACKNOWLEDGEMENT: RegExp = /^Background task (started|restarted|resumed)\. Task ID: /;

/** Whether a tool step's result is core's acknowledgement of a background dispatch. */
export function isCoreBackgroundAcknowledgement(result: unknown): boolean {
  return typeof result === "string" && BACKGROUND_ACKNOWLEDGEMENT.test(result);
}

/**
 * The workflow name Mastra's server looks durable runs up under (its approve and decline routes
 * check the run's owner and its suspended tool call there).
 */
export const DURABLE_LOOP_WORKFLOW_NAME: string = DurableStepIds.AGENTIC_LOOP;
