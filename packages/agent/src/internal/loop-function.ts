import { MessageList } from "@mastra/core/agent";
import {
  type BaseIterationState,
  createBaseIterationStateUpdate,
  createDurableLLMExecutionStep,
  createDurableLLMMappingStep,
  createDurableToolCallStep,
  type DurableAgenticExecutionOutput,
  type DurableAgenticWorkflowInput,
  type DurableLLMStepOutput,
  emitChunkEvent,
  emitErrorEvent,
  emitFinishEvent,
  globalRunRegistry,
  runDurableFinishSideEffects,
} from "@mastra/core/agent/durable";
import type { PubSub } from "@mastra/core/events";
import type { Mastra } from "@mastra/core/mastra";
import { RequestContext } from "@mastra/core/request-context";
import { PUBSUB_SYMBOL } from "@mastra/core/workflows/_constants";
import { type Inngest, type InngestFunction, NonRetriableError } from "inngest";
import { cancelEventName, loopFunctionId, resumeEventName, runEventName } from "./agent-events.ts";
import { callerOwnedRuns } from "./caller-runs.ts";
import { compactLLMOutput, compactMappingOutput, expandLLMOutput, expandMappingOutput } from "./compact-outputs.ts";
import type { RunRecords } from "./run-records.ts";
import { StepPublisher } from "./step-publisher.ts";
import { runToolPhase } from "./tool-phase.ts";

/** What the loop needs from the agent that owns it, resolved when a run executes. */
export interface LoopContext {
  agentId: string;
  inngest: Inngest.Any;
  /** The run's PubSub (the stream cache over the transport). */
  pubsub(): PubSub;
  /** The Mastra instance the agent is registered with, for cross-process rebuilds. */
  mastra(): Mastra | undefined;
  records: RunRecords;
  /** Inngest flow control and retries, passed to `createFunction`. */
  functionOptions: Record<string, unknown>;
  /** How long a run waits for human decisions, in milliseconds. */
  waitTimeoutMs: number;
}

type StepParameters = Record<string | symbol, unknown>;

/**
 * Creates the one Inngest function that runs an agent's loop: per iteration `llm:<i>`, one
 * `tool:<i>:<j>` per tool call (by position, since providers may repeat ids), `map:<i>`, then
 * `finish`. Step ids come only from the loop counter and memoized outputs, so every replay names
 * the same steps. Each step publishes through a {@link StepPublisher} and flushes before it returns,
 * so no step is recorded as done while its events are unstored. Code outside steps has no side
 * effects: Inngest re-runs it on every call.
 */
export function createLoopFunction(context: LoopContext): InngestFunction.Any {
  const llmStep = createDurableLLMExecutionStep();
  const toolStep = createDurableToolCallStep();
  const mappingStep = createDurableLLMMappingStep();
  const { agentId, inngest } = context;

  return inngest.createFunction(
    {
      id: loopFunctionId(agentId),
      name: `Agent ${agentId}`,
      retries: 3,
      ...context.functionOptions,
      triggers: [{ event: runEventName(agentId) }],
      cancelOn: [{ event: cancelEventName(agentId), if: "async.data.runId == event.data.runId" }],
      onFailure: async ({
        event,
        step,
        error,
      }: {
        event: { data: unknown };
        step: { run(id: string, work: () => Promise<void>): Promise<unknown> };
        error: Error;
      }) => {
        const input = (event.data as { event: { data: DurableAgenticWorkflowInput } }).event.data;
        await step.run("report-failure", async () => {
          const pubsub = context.pubsub();
          await emitErrorEvent(pubsub, input.runId, error);
          await pubsub.flush();
          await context.records.write(input.runId, agentId, "failed", {
            error: { name: error.name, message: error.message },
          });
        });
      },
    },
    async ({ event, step, attempt }) => {
      const input = event.data as DurableAgenticWorkflowInput;
      const runId = input.runId;
      const mastra = context.mastra();
      const requestContext = new RequestContext(Object.entries(input.requestContextEntries ?? {}) as never);

      /** Runs `work` as the durable step `id`, publishing with producer keys, flushed before it returns. */
      const durable = <Output>(
        id: string,
        work: (publisher: StepPublisher, parameters: StepParameters) => Promise<Output>,
      ) =>
        step.run(id, async () => {
          const publisher = new StepPublisher(context.pubsub(), id, attempt);
          const parameters: StepParameters = { mastra, requestContext, tracingContext: {}, [PUBSUB_SYMBOL]: publisher };
          const output = await work(publisher, parameters);
          await publisher.flush();
          return output;
        }) as Promise<Output>;

      let iteration: BaseIterationState = {
        ...(input as unknown as BaseIterationState),
        iterationCount: 0,
        accumulatedSteps: [],
        accumulatedUsage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
        lastStepResult: undefined,
      } as BaseIterationState;
      const maxSteps = input.options?.maxSteps ?? 5;

      let ended = false;
      try {
        for (let index = 0; index < maxSteps; index++) {
          const llmInput = {
            ...input,
            messageListState: iteration.messageListState,
            messageId: iteration.messageId ?? input.messageId,
            state: iteration.state ?? input.state,
            stepIndex: index,
            accumulatedSteps: iteration.accumulatedSteps,
          };
          const llmBase = llmInput.messageListState;
          const llmMemo = await durable(`llm:${index}`, async (publisher, parameters) => {
            if (index === 0) {
              const closures = (input as { callerOnlyOptions?: string[] }).callerOnlyOptions ?? [];
              if (closures.length > 0 && !callerOwnedRuns.has(runId)) {
                throw new NonRetriableError(
                  `[@mastra/inngest-agent] run ${runId} uses ${closures.join(", ")}, which only exist in the caller's process, and this step runs in another one; register tools on the agent or on Mastra instead of passing them per call, or serve the agent from the caller's process`,
                );
              }
              await context.records.write(runId, agentId, "running");
              // The start chunk belongs to the first step: emitted by the caller, it would take an
              // index the worker does not know of.
              await emitChunkEvent(publisher, runId, {
                type: "start",
                runId,
                from: "AGENT",
                payload: { id: input.agentId, messageId: input.messageId },
              } as never);
            }
            const tripwire = (input as { tripwire?: TripwireData }).tripwire;
            if (index === 0 && tripwire !== undefined && !callerOwnedRuns.has(runId)) {
              return compactLLMOutput(await stopAtTripwire(publisher, runId, tripwire, llmInput), llmBase);
            }
            // The step gets its own copy: the delta is taken against the list as it was before the step.
            const output = (await llmStep.execute({
              ...parameters,
              inputData: { ...llmInput, messageListState: structuredClone(llmBase) },
            } as never)) as DurableLLMStepOutput;
            return compactLLMOutput(withoutProviderRequest(output), llmBase);
          });
          const llm = expandLLMOutput(llmMemo, llmBase);
          const toolResults = await runToolPhase({
            agentId,
            runId,
            index,
            input,
            llm,
            records: context.records,
            waitTimeoutMs: context.waitTimeoutMs,
            resumeEvent: resumeEventName(agentId),
            durable,
            step: step as never,
            toolStep: toolStep as never,
            durableRetain: (ttlMs) =>
              (context.pubsub() as { retain?: (topic: string, ttl: number) => Promise<void> }).retain?.(
                `agent.stream.${runId}`,
                ttlMs,
              ) ?? Promise.resolve(),
          });
          /** The mapping step's work: core's mapping, the early stop, the next message id. */
          const mapIteration = async (parameters: StepParameters): Promise<DurableAgenticExecutionOutput> => {
            const output = (await mappingStep.execute({
              ...parameters,
              inputData: {
                llmOutput: { ...llm, messageListState: structuredClone(llm.messageListState) },
                toolResults,
                runId,
                agentId: input.agentId,
                messageId: iteration.messageId ?? input.messageId,
                state: llm.state ?? input.state,
              },
            } as never)) as DurableAgenticExecutionOutput;
            if (output.stepResult?.isContinued && (await shouldStopEarly(runId, iteration, output))) {
              // Decided inside the step and memoized, so every replay follows the same path.
              return {
                ...output,
                stepResult: { ...output.stepResult, isContinued: false },
              } as DurableAgenticExecutionOutput;
            }
            if (output.stepResult?.isContinued && index + 1 < maxSteps) {
              // The next iteration answers in a new assistant message, as the plain loop does; the id is
              // random, so it is made inside this step and memoized with its output.
              const list = new MessageList({ generateMessageId: mastra?.generateId?.bind(mastra) }).deserialize(
                output.messageListState as never,
              );
              const messageId = list.rotateResponseMessageId();
              return { ...output, messageId, messageListState: list.serialize() } as DurableAgenticExecutionOutput;
            }
            return output;
          };
          const mappingInputs = { toolResults, toolCalls: llm.toolCalls };
          const mappedMemo = await durable(`map:${index}`, async (_publisher, parameters) => {
            const output = await mapIteration(parameters);
            return compactMappingOutput(output, llm.messageListState, mappingInputs);
          });
          const mapped = expandMappingOutput(mappedMemo, llm.messageListState, mappingInputs);
          iteration = createBaseIterationStateUpdate({ currentState: iteration, executionOutput: mapped });
          if (!mapped.stepResult?.isContinued) {
            break;
          }
        }

        const result = await durable("finish", async (publisher) => {
          const lastStep = iteration.accumulatedSteps.at(-1);
          const finish = await runDurableFinishSideEffects({
            runId,
            initData: input,
            messageListState: iteration.messageListState,
            mastra,
            requestContext,
            tracingContext: {},
            outputResult: {
              text: lastStep?.text ?? "",
              usage: iteration.accumulatedUsage,
              finishReason: iteration.lastStepResult?.reason ?? "unknown",
              steps: iteration.accumulatedSteps,
            },
          } as never);
          const text = finish.outputText || lastStep?.text;
          await emitFinishEvent(publisher, runId, {
            output: { text, usage: iteration.accumulatedUsage, steps: iteration.accumulatedSteps },
            stepResult: iteration.lastStepResult ?? { reason: "stop", warnings: [], isContinued: false },
          } as never);
          await finish.titleGeneration;
          await context.records.write(runId, agentId, "finished");
          return {
            text: text ?? "",
            reason: iteration.lastStepResult?.reason ?? "stop",
            steps: iteration.accumulatedSteps.length,
          };
        });
        ended = true;
        return result;
      } finally {
        // What the core steps registered for this run in this process (the remote abort listener,
        // rebuilt tools) is released once the run has ended here; a caller in this process keeps
        // its own entry until its cleanup().
        if (ended && !callerOwnedRuns.has(runId)) {
          globalRunRegistry.delete(runId);
        }
      }
    },
  );
}

/**
 * The LLM output without the provider request (the whole prompt again, in the step result and in
 * the response metadata): no later step reads it, the loop state drops it, and the stream's
 * chunks carry what the plain agent's carry, so memoizing it would store the prompt once more per call.
 */
function withoutProviderRequest(output: DurableLLMStepOutput): DurableLLMStepOutput {
  const { request: _request, ...stepResult } = output.stepResult ?? {};
  const { request: _metadataRequest, ...metadata } = output.metadata ?? {};
  return {
    ...output,
    ...(output.stepResult === undefined ? {} : { stepResult }),
    ...(output.metadata === undefined ? {} : { metadata }),
  } as DurableLLMStepOutput;
}

interface TripwireData {
  reason?: string;
  retry?: boolean;
  metadata?: unknown;
  processorId?: string;
}

/**
 * Ends the first LLM step at an input processor's tripwire, as core's step does when it finds the
 * tripwire in the caller's registry entry: a `tripwire` chunk and a step result without a model call.
 */
async function stopAtTripwire(
  publisher: PubSub,
  runId: string,
  tripwire: TripwireData,
  input: { messageListState: unknown; state: unknown },
): Promise<DurableLLMStepOutput> {
  await emitChunkEvent(publisher, runId, {
    type: "tripwire",
    runId,
    from: "AGENT",
    payload: {
      reason: tripwire.reason ?? "",
      retry: tripwire.retry,
      metadata: tripwire.metadata,
      processorId: tripwire.processorId,
    },
  } as never);
  return {
    messageListState: input.messageListState,
    text: "",
    toolCalls: [],
    stepResult: { reason: "tripwire", warnings: [], isContinued: false },
    metadata: {},
    state: input.state,
  } as unknown as DurableLLMStepOutput;
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
  const entry = globalRunRegistry.get(runId) as { stopWhen?: unknown; abortSignal?: AbortSignal } | undefined;
  if (entry?.abortSignal?.aborted === true) {
    return true;
  }
  if (entry?.stopWhen === undefined) {
    return false;
  }
  const conditions = (Array.isArray(entry.stopWhen) ? entry.stopWhen : [entry.stopWhen]) as Array<
    (state: { steps: unknown[] }) => boolean | Promise<boolean>
  >;
  const { accumulatedSteps } = createBaseIterationStateUpdate({ currentState: iteration, executionOutput: output });
  const results = await Promise.all(conditions.map((condition) => condition({ steps: accumulatedSteps })));
  return results.some(Boolean);
}
