import type { BaseIterationState, DurableLLMStepOutput } from "@mastra/core/agent/durable";
import {
  type AIModelGenerationSpan,
  EntityType,
  type ExportedSpan,
  type ObservabilityInstance,
  SpanType,
} from "@mastra/core/observability";

import type { RunInput, StepEnvironment } from "./run-input.ts";

// The run's root spans (`agent_run`, `model_generation`) are opened by core's preparation in the
// caller's process and travel as exported span data on the run input; core's steps rebuild them
// wherever they run. These functions end them as core's own durable workflow does at its end, from
// that same data, so the caller's process and any other worker end them the same way.

/** The selected observability instance of the step's Mastra, when tracing is on. */
function observabilityOf(environment: StepEnvironment): ObservabilityInstance | undefined {
  return environment.mastra?.observability?.getSelectedInstance({ requestContext: environment.requestContext });
}

/** The root spans' exported data, as core's steps read it (core keeps it untyped). */
type SpanData = ExportedSpan<never>;

/**
 * Ends the run's `model_generation` (with the output, finish reason and usage, through core's
 * tracker) and `agent_run` spans at the end of a run, as core's `map-final-output` step does. A run
 * whose last LLM call failed had its generation ended with the error by core's LLM step; its agent
 * run ends with that error.
 */
export function endRunSpans(options: {
  input: RunInput;
  environment: StepEnvironment;
  iteration: BaseIterationState;
  text: string;
  /** The error an LLM call of the run ended with, as its step memoized it. */
  runError?: { name: string; message: string } | undefined;
}): void {
  const { input, environment, iteration, text, runError } = options;
  const observability = observabilityOf(environment);
  if (observability === undefined) {
    return;
  }
  const reason = iteration.lastStepResult?.reason;
  if (input.modelSpanData !== undefined && reason !== "error") {
    const toolCalls = iteration.accumulatedSteps.flatMap((step) =>
      (step.toolCalls ?? []).map((call: { toolCallId: string; toolName: string; args?: unknown }) => ({
        toolCallId: call.toolCallId,
        toolName: call.toolName,
        args: call.args,
      })),
    );
    // A rebuilt span is of its type's class: a model generation's has core's tracker.
    const modelSpan = observability.rebuildSpan(input.modelSpanData as SpanData) as unknown as AIModelGenerationSpan;
    modelSpan.createTracker()?.endGeneration({
      output: { text, ...(toolCalls.length > 0 ? { toolCalls } : {}) },
      attributes: { finishReason: reason },
      usage: iteration.accumulatedUsage,
    });
  }
  if (input.agentSpanData !== undefined) {
    const agentSpan = observability.rebuildSpan(input.agentSpanData as ExportedSpan<SpanType.AGENT_RUN>);
    if (runError === undefined) {
      agentSpan.end({ output: { text } });
    } else {
      agentSpan.error({ error: Object.assign(new Error(runError.message), { name: runError.name }), endSpan: true });
    }
  }
}

/** Ends the run's root spans with the error that failed the run, as core does when its workflow fails. */
export function failRunSpans(options: { input: RunInput; environment: StepEnvironment; error: Error }): void {
  const { input, environment, error } = options;
  const observability = observabilityOf(environment);
  if (observability === undefined) {
    return;
  }
  for (const data of [input.modelSpanData, input.agentSpanData]) {
    if (data !== undefined) {
      observability.rebuildSpan(data as SpanData).error({ error, endSpan: true });
    }
  }
}

/** The exported data of a run's root spans: the run input's, or those a resume opened. */
export interface RunSpanData {
  agentSpanData?: unknown;
  modelSpanData?: unknown;
}

/** The id of the run's agent run span, which names the claim to end its root spans; none without tracing. */
export function agentSpanId(spans: RunSpanData): string | undefined {
  const id = (spans.agentSpanData as { id?: unknown } | undefined)?.id;
  return typeof id === "string" ? id : undefined;
}

/**
 * Whether core's LLM step stopped at an abort, and whether it ended the generation then (it does
 * when the abort interrupted the model, and its result names the model; not when the abort came
 * before the call). Core returns the reason `abort`, which its step result type does not list.
 */
export function llmStepAbort(output: DurableLLMStepOutput): { aborted: boolean; generationEnded: boolean } {
  const aborted = (output.stepResult?.reason as string | undefined) === "abort";
  return { aborted, generationEnded: aborted && output.metadata?.modelId !== undefined };
}

/**
 * Ends what an abort left open, as the plain agent's aborted stream does: the LLM step's span (when
 * the abort came while its tool calls ran), the `model_generation` with finish reason `aborted`
 * (unless core's LLM step ended it when the abort interrupted the model), and the `agent_run` with
 * the status `aborted`.
 */
export function endAbortedRunSpans(options: {
  spans: RunSpanData;
  environment: StepEnvironment;
  /** The span of the LLM step whose tool calls the abort interrupted. */
  stepSpanData?: unknown;
  /** Whether core's LLM step ended the generation (and its step) at the abort. */
  generationEnded: boolean;
}): void {
  const { spans, environment, stepSpanData, generationEnded } = options;
  const observability = observabilityOf(environment);
  if (observability === undefined) {
    return;
  }
  if (stepSpanData !== undefined) {
    observability.rebuildSpan(stepSpanData as SpanData).end();
  }
  if (!generationEnded && spans.modelSpanData !== undefined) {
    const modelSpan = observability.rebuildSpan(spans.modelSpanData as SpanData) as unknown as AIModelGenerationSpan;
    modelSpan.createTracker()?.endGeneration({ attributes: { finishReason: "aborted" } });
  }
  if (spans.agentSpanData !== undefined) {
    observability
      .rebuildSpan(spans.agentSpanData as ExportedSpan<SpanType.AGENT_RUN>)
      .end({ output: { status: "aborted", reason: "abort" } });
  }
}

/**
 * Opens the spans a resumed run continues under, as the plain agent does when it resumes: an
 * `agent_run` "(resumed)" under the generation the suspension ended, in the same trace, and a new
 * `model_generation` under it. Their data is memoized by the step that opens them, so they are
 * opened once and reach every later step, in whatever process it runs.
 */
export function openResumedSpans(options: {
  input: RunInput;
  environment: StepEnvironment;
  suspended: RunSpanData;
}): RunSpanData | undefined {
  const { input, environment, suspended } = options;
  const observability = observabilityOf(environment);
  if (observability === undefined || suspended.modelSpanData === undefined) {
    return undefined;
  }
  const generation = suspended.modelSpanData as ExportedSpan<SpanType.MODEL_GENERATION>;
  const agentRun = observability.rebuildSpan(generation).createChildSpan({
    type: SpanType.AGENT_RUN,
    name: `agent run: '${input.agentId}' (resumed)`,
    entityType: EntityType.AGENT,
    entityId: input.agentId,
    entityName: input.agentName ?? input.agentId,
    metadata: {
      runId: input.runId,
      resumed: true,
      ...(typeof (suspended.agentSpanData as { id?: unknown } | undefined)?.id === "string"
        ? { resumedFromSpanId: (suspended.agentSpanData as { id: string }).id }
        : {}),
    },
    requestContext: environment.requestContext,
  });
  const model = agentRun.createChildSpan({
    type: SpanType.MODEL_GENERATION,
    name: generation.name,
    attributes: {
      model: generation.attributes?.model,
      provider: generation.attributes?.provider,
      streaming: true,
    },
    metadata: { runId: input.runId, resumed: true },
    requestContext: environment.requestContext,
  });
  return { agentSpanData: agentRun.exportSpan(), modelSpanData: model.exportSpan() };
}

/**
 * Records a step attempt that did not complete (it threw, or its worker was lost) and that Inngest
 * retried: an error span under the run's generation, from the retrying attempt, so a trace shows the
 * failure and the retry. The failed attempt's own spans were started where it ran and never ended.
 */
export function recordRetriedAttempt(options: {
  spans: RunSpanData;
  environment: StepEnvironment;
  runId: string;
  stepId: string;
  /** The attempt that retries the step, counted from 0: as many attempts failed before it. */
  attempt: number;
}): void {
  const { spans, environment, runId, stepId, attempt } = options;
  const observability = observabilityOf(environment);
  const parent = spans.modelSpanData ?? spans.agentSpanData;
  if (observability === undefined || parent === undefined) {
    return;
  }
  const retry = observability.rebuildSpan(parent as SpanData).createChildSpan({
    type: SpanType.GENERIC,
    name: `retry: '${stepId}'`,
    metadata: { runId, stepId, attempt },
    requestContext: environment.requestContext,
  });
  // Every earlier attempt failed, and one that never reached a worker ran no code to say so.
  const attempts = attempt === 1 ? "its first attempt" : `its ${attempt} earlier attempts`;
  const error = new Error(
    `step '${stepId}' did not complete in ${attempts} (it threw, or its worker was lost or unreachable); Inngest retried it as attempt ${attempt}`,
  );
  retry.error({ error: Object.assign(error, { name: "StepAttemptFailed" }), endSpan: true });
}
