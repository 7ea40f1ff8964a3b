import type { DurableToolCallInput, DurableToolCallOutput } from "@mastra/core/agent/durable";
import type { PubSub } from "@mastra/core/events";
import { type PendingResume, streamTopic } from "@mastra/inngest-core";
import {
  isCoreBackgroundAcknowledgement,
  publishChunk,
  type RunSpanData,
  type StepEnvironment,
} from "./core-durable/index.ts";
import { endSpansIfAborted, openResumedRunSpans } from "./run-spans-end.ts";
import type { StepPublisher } from "./step-publisher.ts";
import type { ToolOutcome, ToolPhaseContext } from "./tool-phase.ts";

/**
 * One execution of a tool call in its step: core's tool step, the tool result a background dispatch
 * does not stream, and, for a call that needs a decision, the pending record (before its chunks are
 * released) and the history kept as long as the run may wait.
 */
export async function executeTool(
  context: ToolPhaseContext,
  publisher: StepPublisher,
  environment: StepEnvironment,
  toolCall: DurableToolCallInput,
  resume: { resumeData: unknown; suspendData: unknown; openSpans: boolean } | undefined,
  spans: RunSpanData,
): Promise<ToolOutcome> {
  // A resumed execution runs under the spans of the resumed run, as the plain agent's does.
  const resumedSpans = resume?.openSpans
    ? await openResumedRunSpans({ records: context.records, input: context.input, environment, suspended: spans })
    : undefined;
  const runSpans = resumedSpans ?? spans;
  const traced = resumedSpans === undefined ? {} : { resumedSpans };
  let suspendData: unknown;
  let suspended = false;
  publisher.holdSuspendedEvents();
  const output = await context.steps.tool(
    environment,
    { ...toolCall, stepSpanData: resume === undefined ? context.llm.stepSpanData : runSpans.modelSpanData },
    {
      getInitData: () => ({ ...context.input, ...runSpans }),
      suspend: async (payload: unknown) => {
        suspended = true;
        suspendData = payload;
      },
      ...(resume === undefined ? {} : { resumeData: resume.resumeData, suspendData: resume.suspendData }),
    },
  );
  if (!suspended) {
    const stepSpanData = resume === undefined ? context.llm.stepSpanData : undefined;
    const { records, runId } = context;
    await endSpansIfAborted({ records, runId, spans: runSpans, environment, stepSpanData });
    if (isBackgroundAcknowledgement(publisher, toolCall.toolCallId, output)) {
      // Core's durable tool step returns the acknowledgement without a tool-result chunk; the plain
      // agent streams one, and clients that pair calls with results wait for it.
      await publishChunk(publisher, context.runId, {
        type: "tool-result",
        payload: {
          toolCallId: toolCall.toolCallId,
          toolName: toolCall.toolName,
          args: output.args,
          result: output.result,
        },
      });
    }
    await publisher.releaseHeld();
    if (resume !== undefined) {
      await context.records.removePending(context.runId, context.agentId, toolCall.toolCallId);
    }
    return { suspended: false, output, ...traced };
  }
  const payload = (suspendData ?? {}) as { type?: string; toolCallSuspended?: unknown };
  const pending: PendingResume = {
    toolCallId: toolCall.toolCallId,
    toolName: toolCall.toolName,
    kind: payload.type === "approval" ? "approval" : "suspension",
    requestedAt: await suspensionTime(context, publisher.stepId, toolCall.toolCallId),
    stepId: publisher.stepId,
    ...(payload.toolCallSuspended === undefined ? {} : { suspendPayload: payload.toolCallSuspended }),
  };
  await context.records.addPending(context.runId, context.agentId, pending);
  // Keep the run's stream history at least as long as it may wait.
  await retainHistory(context.pubsub(), context.runId, context.waitTimeoutMs);
  await publisher.releaseHeld();
  return { suspended: true, pending, suspendData, ...traced };
}

/**
 * When the call asked for its decision. A retry of the step that asked (its first attempt's result
 * was lost after the request was recorded and streamed) asks under the same time: a `resume()`
 * that answered the first request is the decision the run reads, not one it waits for forever.
 */
async function suspensionTime(context: ToolPhaseContext, stepId: string, toolCallId: string): Promise<string> {
  const record = await context.records.read(context.runId);
  const earlier = record?.pendingResumes.find((entry) => entry.toolCallId === toolCallId && entry.stepId === stepId);
  return earlier?.requestedAt ?? new Date().toISOString();
}

/** Whether the tool step answered the call with a background acknowledgement and streamed no result for it. */
function isBackgroundAcknowledgement(
  publisher: StepPublisher,
  toolCallId: string,
  output: DurableToolCallOutput,
): boolean {
  if (publisher.answered(toolCallId) || output.error !== undefined) {
    return false;
  }
  return publisher.dispatchedToBackground(toolCallId) || isCoreBackgroundAcknowledgement(output.result);
}

/** Keeps a run's stream history at least `ttlMs`, when the PubSub keeps history (the stream cache does). */
async function retainHistory(pubsub: PubSub, runId: string, ttlMs: number): Promise<void> {
  const retaining = pubsub as PubSub & { retain?: (topic: string, ttlMs: number) => Promise<void> };
  await retaining.retain?.(streamTopic(runId), ttlMs);
}
