import { randomUUID } from "node:crypto";
import type { MessageListInput } from "@mastra/core/agent/message-list";
import { assertValidId } from "@mastra/inngest-core";
import type { InngestAgentStreamOptions } from "../inngest-agent-options.ts";
import type { InngestAgentStreamResult } from "../inngest-agent-types.ts";
import { abortRun } from "./abort-run.ts";
import { runEventName } from "./agent-events.ts";
import type { AgentRuntime } from "./agent-runtime.ts";
import { callerOnlyOptions } from "./caller-only-options.ts";
import { admitCall } from "./caller-rate-limit.ts";
import { type PreparedRun, preparedOutputOptions, prepareRun, registerCallerRun } from "./core-durable/index.ts";
import { callerRateLimitOf } from "./loop-flow-control.ts";
import { openRunStream, toStreamResult } from "./open-run-stream.ts";
import { claimRun } from "./run-claim.ts";
import type { RunOutput } from "./run-output.ts";
import { rememberRootSpans } from "./run-spans-end.ts";
import { packageName, toCoreOptions } from "./stream-input.ts";
import { threadIdOf, waitForThread } from "./thread-lane.ts";

/** The run id of `options`, validated, or a new one. */
export function runIdOf(options: { runId?: string | undefined }): string {
  return options.runId === undefined ? randomUUID() : assertValidId("runId", options.runId, packageName);
}

/**
 * Prepares a run in this process (memory, processors, tools) and completes its input with what the
 * loop reads: the agent's id and name, an input processor's tripwire (a worker in another process
 * has no registry entry to find it in), and the names of closures that cannot leave this process.
 */
export async function prepareRunInput<OUTPUT>(
  runtime: AgentRuntime,
  messages: MessageListInput,
  options: InngestAgentStreamOptions<OUTPUT>,
  runId: string,
  claimId: string,
): Promise<PreparedRun> {
  const prepared = await prepareRun({
    agent: runtime.agent,
    messages,
    streamOptions: toCoreOptions(options),
    runId,
    requestContext: options.requestContext,
    mastra: runtime.mastra,
    durableAgentId: runtime.id,
    durableAgentName: runtime.name,
  });
  const { input } = prepared;
  input.agentId = runtime.id;
  input.agentName = runtime.name;
  input.stepIndex = 0;
  input.claimId = claimId;
  const closures = callerOnlyOptions(options);
  if (closures.length > 0) {
    input.callerOnlyOptions = closures;
  }
  await rememberRootSpans(runtime.records, runId, input);
  return prepared;
}

/** The options of the plain agent's output that a caller passes per call. */
function outputOptionsOf<OUTPUT>(options: InngestAgentStreamOptions<OUTPUT>): Record<string, unknown> {
  const { includeRawChunks, hideSignals, experimentalTransform, returnScorerData } = options;
  return Object.fromEntries(
    Object.entries({ includeRawChunks, hideSignals, experimentalTransform, returnScorerData }).filter(
      ([, value]) => value !== undefined,
    ),
  );
}

/**
 * Starts one durable run and streams it: `stream()` without `untilIdle`, and each run of the idle
 * loop. A call over the agent's `functionOptions.rateLimit` throws `RATE_LIMITED` before anything
 * of the run exists (claim, lane entry, saved message, subscription, event).
 */
export async function startRun<OUTPUT>(
  runtime: AgentRuntime,
  messages: MessageListInput,
  options: InngestAgentStreamOptions<OUTPUT>,
): Promise<InngestAgentStreamResult<OUTPUT>> {
  const runId = runIdOf(options);
  const rateLimit = callerRateLimitOf(runtime.functionOptions);
  if (rateLimit !== undefined) {
    await admitCall(runtime, rateLimit, options);
  }
  const claimId = await claimRun(runtime, runId, options);
  const { callerRuns } = runtime;
  let ended = false;
  // A run that ended stays as it ended: aborting it later (the idle loop aborts every run it
  // started) must not rewrite its record or append to its history.
  const abort = async (): Promise<void> => {
    if (!ended) {
      await abortRun(runtime, runId);
    }
  };
  const onAbortSignal = (): void => void abort();
  let stream: RunOutput<OUTPUT> | undefined;
  try {
    const threadId = threadIdOf(options);
    if (threadId !== undefined && runtime.serializeThreads) {
      await waitForThread(runtime, threadId, runId, options);
    }
    const { result, input } = await prepareRunInput(runtime, messages, options, runId, claimId);
    registerCallerRun(runId, result, new AbortController());
    callerRuns.add(runId);
    stream = await openRunStream<OUTPUT>(runtime, runId, {
      messageId: result.messageId,
      model: { modelId: input.modelConfig?.modelId, provider: input.modelConfig?.provider },
      threadId: result.threadId,
      resourceId: result.resourceId,
      callbacks: options,
      indexedChunks: options.indexedChunks,
      outputOptions: { ...preparedOutputOptions(result), ...outputOptionsOf(options) },
      messageList: result.messageList,
      onEnd: (reason) => {
        if (reason === "waiting") {
          // The run waits for a decision and goes on later, in this process or another; as with the
          // plain agent, the caller's signal no longer reaches a stream that ended.
          options.abortSignal?.removeEventListener("abort", onAbortSignal);
          callerRuns.streamClosed(runId);
          return;
        }
        ended = true;
        options.abortSignal?.removeEventListener("abort", onAbortSignal);
        callerRuns.release(runId);
      },
    });
    // One event per claim: a run id given back (a failed start, deleteRun()) can start a new run,
    // which an event id Inngest saw before would not.
    await runtime.inngest.send({ id: `${runId}:${claimId}`, name: runEventName(runtime.id), data: { ...input } });
    if (options.abortSignal?.aborted === true) {
      void abort();
    } else {
      options.abortSignal?.addEventListener("abort", onAbortSignal, { once: true });
    }
    const opened = stream;
    return toStreamResult(opened, runId, {
      threadId: result.threadId,
      resourceId: result.resourceId,
      // The caller leaves; the run goes on, with what it needs from this process.
      cleanup: () => {
        opened.cleanup();
        callerRuns.streamClosed(runId);
      },
      abort,
    });
  } catch (error) {
    // Nothing started: what this call took (the claim, the registry entry, the subscription) goes,
    // so a failed send leaks nothing and the run id can be used again.
    stream?.cleanup();
    callerRuns.release(runId);
    await runtime.records.remove(runId).catch(() => {});
    throw error;
  }
}
