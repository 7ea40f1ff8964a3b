import {
  globalRunRegistry,
  type PreparationResult,
  prepareForDurableExecution,
  publishAbortRequest,
  type RunRegistryEntry,
  runDurableStreamUntilIdle,
} from "@mastra/core/agent/durable";
import type { MessageListInput } from "@mastra/core/agent/message-list";
import type { PubSub } from "@mastra/core/events";
import type { Mastra } from "@mastra/core/mastra";
import type { RequestContext } from "@mastra/core/request-context";
import type { AnyAgent, InngestAgentStreamOptions } from "../../inngest-agent-options.ts";
import type { InngestAgentStreamResult } from "../../inngest-agent-types.ts";

import { withRawChunksInList } from "../loop-agent-members.ts";
import { withProcessorRetries } from "../processor-retries.ts";
import { withRawChunks } from "../raw-chunks.ts";
import type { CallerEntryFields, RunInput } from "./run-input.ts";

// The one place where this package calls `@mastra/core/agent/durable`. Core's durable pieces are
// typed for its own workflow engine (step contexts, registry entries with fields it sets itself);
// each cast below says which of those shapes this package fills in part, and why that is enough.
/** A run prepared in the caller's process: core's preparation and the input the loop receives. */
export interface PreparedRun {
  result: PreparationResult;
  input: RunInput;
}

/**
 * Prepares a run in the caller's process: memory, processors, tools, the serializable input. An
 * input processor's tripwire is decided here; it travels with the input, since a worker in another
 * process has no registry entry to find it in.
 */
export async function prepareRun(options: {
  agent: AnyAgent;
  messages: MessageListInput;
  streamOptions: Record<string, unknown>;
  runId: string;
  requestContext: RequestContext | undefined;
  mastra: Mastra | undefined;
  durableAgentId: string;
  durableAgentName: string;
}): Promise<PreparedRun> {
  const { streamOptions, requestContext, mastra, ...rest } = options;
  const result = await prepareForDurableExecution({
    ...rest,
    // The options are core's own execution options (the types of this package derive from them),
    // with the closures core parks on the registry entry; they are only read, never narrowed.
    options: streamOptions as never,
    ...(requestContext === undefined ? {} : { requestContext }),
    ...(mastra === undefined ? {} : { mastra }),
  });
  const input: RunInput = result.workflowInput;
  // Core sets `tripwire` on the entry without declaring it.
  const tripwire = (result.registryEntry as RunRegistryEntry & CallerEntryFields).tripwire;
  if (tripwire !== undefined) {
    input.tripwire = tripwire;
  }
  return { result, input };
}

/**
 * Registers the caller's run in core's run registry, with the abort controller the loop checks,
 * so core's steps in this process find the caller's model, tools and processors.
 */
export function registerCallerRun(runId: string, prepared: PreparationResult, abortController: AbortController): void {
  const entry: RunRegistryEntry & CallerEntryFields = {
    ...prepared.registryEntry,
    // Inside an LLM call of the loop, these do what the plain loop does (see llm-call-scope.ts).
    model: withRawChunks(prepared.registryEntry.model),
    modelList: withRawChunksInList(prepared.registryEntry.modelList),
    outputProcessors: withProcessorRetries(prepared.registryEntry.outputProcessors),
    messageList: prepared.messageList,
    // Core's steps end the run's root spans through these live objects when they find them, and
    // from the run input's span data when they do not (a worker in another process); leaving them
    // out makes the caller's process end them the one way every worker does, once.
    agentSpan: undefined,
    modelSpan: undefined,
    abortController,
    abortSignal: abortController.signal,
  };
  globalRunRegistry.set(runId, entry);
}

/**
 * Keeps a run's registry entry from expiring: core's registry drops entries unused for two hours,
 * and reading one counts as use.
 */
export function touchRegisteredRun(runId: string): void {
  globalRunRegistry.get(runId);
}

/** Removes a run's registry entry in this process. */
export function releaseRegisteredRun(runId: string): void {
  globalRunRegistry.delete(runId);
}

/** What the caller's registry entry holds for the loop's early stop: `stopWhen` and the abort signal. */
export function callerStopConditions(runId: string): {
  stopWhen: Array<(state: { steps: unknown[] }) => boolean | Promise<boolean>>;
  aborted: boolean;
} {
  const entry = globalRunRegistry.get(runId) as (RunRegistryEntry & CallerEntryFields) | undefined;
  const stopWhen = entry?.stopWhen;
  // Core's `StopCondition` takes the AI SDK's step results; the loop passes core's step records,
  // which is what core's own durable loop passes too.
  const conditions = (stopWhen === undefined ? [] : Array.isArray(stopWhen) ? stopWhen : [stopWhen]) as Array<
    (state: { steps: unknown[] }) => boolean | Promise<boolean>
  >;
  return { stopWhen: conditions, aborted: entry?.abortSignal?.aborted === true };
}

/** The output options preparation resolved in the caller: output processors, structured output, request context. */
export function preparedOutputOptions(prepared: PreparationResult): Record<string, unknown> {
  const entry = prepared.registryEntry as RunRegistryEntry & CallerEntryFields;
  return {
    structuredOutput: entry.structuredOutput,
    outputProcessors: entry.outputProcessors,
    requestContext: entry.requestContext,
  };
}

/** Asks the process that executes the run to abort it (core's control topic). */
export function requestAbort(pubsub: PubSub, runId: string): Promise<void> {
  return publishAbortRequest(pubsub, runId);
}

/** One durable run started by the idle loop. */
export type StartRun<OUTPUT> = (
  messages: MessageListInput,
  options: InngestAgentStreamOptions<OUTPUT> & { _skipBgTaskWait?: boolean },
) => Promise<InngestAgentStreamResult<OUTPUT>>;

/** Runs core's idle loop (`stream({ untilIdle })`) over durable runs started by `startRun`. */
export function runUntilIdle<OUTPUT>(options: {
  id: string;
  agent: AnyAgent;
  mastra: Mastra | undefined;
  activeStreams: Map<string, () => void>;
  messages: MessageListInput;
  streamOptions: InngestAgentStreamOptions<OUTPUT> & { maxIdleMs?: number };
  startRun: StartRun<OUTPUT>;
}): Promise<InngestAgentStreamResult<OUTPUT>> {
  const { agent } = options;
  // Core's idle loop calls `id`, `getDefaultOptions`, `getMemory` and `stream` of the durable agent
  // it gets; these four are given, with `stream` starting one durable run of this package.
  const host = {
    id: options.id,
    getDefaultOptions: agent.getDefaultOptions.bind(agent),
    getMemory: agent.getMemory.bind(agent),
    stream: options.startRun,
  } as never;
  // The options are this package's stream options, which derive from core's.
  return runDurableStreamUntilIdle<OUTPUT>(host, options.messages, options.streamOptions as never, {
    activeStreams: options.activeStreams,
    bgManager: options.mastra?.backgroundTaskManager,
    // Core's result type is its own stream result, which this package's extends with `abort`.
  }) as unknown as Promise<InngestAgentStreamResult<OUTPUT>>;
}
