import type { Agent } from "@mastra/core/agent";
import type { MastraModelOutput } from "@mastra/core/stream";
import type { InngestAgent } from "../../inngest-agent-types.ts";
import { modelCalls } from "./parity-agents.ts";
import {
  CallbackRecorder,
  observeSegment,
  type RunObservation,
  type SegmentObservation,
} from "./parity-observation.ts";
import type { ParityScenario } from "./parity-scenarios.ts";

/** The suspended tool call of a segment's output, if any. */
async function pendingToolCallId(output: MastraModelOutput<unknown>): Promise<string | undefined> {
  const payload = (await Promise.race([
    output.suspendPayload,
    new Promise((resolve) => setTimeout(() => resolve(undefined), 1_000)),
  ])) as { toolCallId?: string } | undefined;
  return payload?.toolCallId;
}

/** Aborts through `abortSignal` at the scenario's chunk. */
function abortControl(scenario: ParityScenario): { signal?: AbortSignal; onChunk: (type: string) => void } {
  const { interaction } = scenario;
  if (interaction.kind !== "abort") {
    return { onChunk: () => {} };
  }
  const controller = new AbortController();
  return {
    signal: controller.signal,
    onChunk: (type) => {
      if (type === interaction.onChunk && !controller.signal.aborted) {
        if (interaction.afterMs === undefined) {
          controller.abort();
        } else {
          setTimeout(() => controller.abort(), interaction.afterMs);
        }
      }
    },
  };
}

/** The memory thread's messages, as `role: text`. */
async function threadMessages(agent: Agent, scenario: ParityScenario): Promise<string[] | undefined> {
  const memory = scenario.options?.memory as { thread: string; resource: string } | undefined;
  if (memory === undefined) {
    return undefined;
  }
  const store = await agent.getMemory();
  const recalled = await store?.recall({ threadId: memory.thread, resourceId: memory.resource });
  return (recalled?.messages ?? []).map((message) => {
    const parts = (message.content as { parts?: Array<{ type: string; text?: string }> }).parts ?? [];
    return `${message.role}: ${parts.map((part) => (part.type === "text" ? part.text : `[${part.type}]`)).join("")}`;
  });
}

/** Runs a scenario on the plain agent (registered with a Mastra that has storage, for its resumes). */
export async function runPlain(agent: Agent, scenario: ParityScenario): Promise<RunObservation> {
  modelCalls.delete(agent.id);
  const recorder = new CallbackRecorder();
  const abort = abortControl(scenario);
  const output = (await agent.stream(scenario.prompt, {
    ...scenario.options,
    ...recorder.callbacks(),
    ...(abort.signal === undefined ? {} : { abortSignal: abort.signal }),
  } as never)) as MastraModelOutput<unknown>;
  const segments: SegmentObservation[] = [await observeSegment(output, recorder, abort.onChunk)];
  const { interaction } = scenario;
  if (interaction.kind === "approve" || interaction.kind === "decline" || interaction.kind === "resume") {
    const toolCallId = await pendingToolCallId(output);
    const continuation = { ...scenario.options, ...recorder.callbacks(), runId: output.runId, toolCallId } as never;
    let continued = (
      interaction.kind === "approve"
        ? await agent.approveToolCall(continuation)
        : interaction.kind === "decline"
          ? await agent.declineToolCall(continuation)
          : await agent.resumeStream(interaction.resumeData, continuation)
    ) as MastraModelOutput<unknown>;
    segments.push(await observeSegment(continued, recorder));
    for (const resumeData of interaction.kind === "resume" ? (interaction.resumeAgain ?? []) : []) {
      const again = { ...scenario.options, ...recorder.callbacks(), runId: output.runId } as Record<string, unknown>;
      again.toolCallId = await pendingToolCallId(continued);
      continued = (await agent.resumeStream(resumeData, again as never)) as MastraModelOutput<unknown>;
      segments.push(await observeSegment(continued, recorder));
    }
  }
  const memory = await threadMessages(agent, scenario);
  return { segments, modelCalls: modelCalls.get(agent.id) ?? 0, ...(memory === undefined ? {} : { memory }) };
}

/** Runs a scenario on the durable agent; `countCalls` reads the model calls where the steps ran. */
export async function runDurable(
  durable: InngestAgent,
  scenario: ParityScenario,
  countCalls: () => Promise<number> = async () => modelCalls.get(durable.agent.id) ?? 0,
): Promise<RunObservation> {
  modelCalls.delete(durable.agent.id);
  const recorder = new CallbackRecorder();
  const abort = abortControl(scenario);
  const started = await durable.stream(scenario.prompt, {
    ...(scenario.durableOptions ?? scenario.options),
    ...recorder.callbacks(),
    ...(abort.signal === undefined ? {} : { abortSignal: abort.signal }),
  } as never);
  const segments: SegmentObservation[] = [await observeSegment(started.output, recorder, abort.onChunk)];
  const { interaction } = scenario;
  if (interaction.kind === "approve" || interaction.kind === "decline" || interaction.kind === "resume") {
    const toolCallId = await pendingToolCallId(started.output);
    const resumeData =
      interaction.kind === "resume" ? interaction.resumeData : { approved: interaction.kind === "approve" };
    const resumed = await durable.resume(started.runId, resumeData, {
      ...recorder.callbacks(),
      ...(toolCallId === undefined ? {} : { toolCallId }),
    });
    segments.push(await observeSegment(resumed.output, recorder));
    resumed.cleanup();
    let continued = resumed.output;
    for (const resumeData of interaction.kind === "resume" ? (interaction.resumeAgain ?? []) : []) {
      const pending = await pendingToolCallId(continued);
      const again = await durable.resume(started.runId, resumeData, {
        ...recorder.callbacks(),
        ...(pending === undefined ? {} : { toolCallId: pending }),
      });
      segments.push(await observeSegment(again.output, recorder));
      again.cleanup();
      continued = again.output;
    }
  }
  started.cleanup();
  const memory = await threadMessages(durable.agent, scenario);
  return { segments, modelCalls: await countCalls(), ...(memory === undefined ? {} : { memory }) };
}
