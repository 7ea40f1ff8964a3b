import type { PubSub } from "@mastra/core/events";
import type { Mastra } from "@mastra/core/mastra";
import { RequestContext } from "@mastra/core/request-context";
import {
  agentSpanId,
  callerStopConditions,
  endAbortedRunSpans,
  failRunSpans,
  openResumedSpans,
  type RunInput,
  type RunSpanData,
  type StepEnvironment,
} from "./core-durable/index.ts";
import type { RunRecords } from "./run-records.ts";

/**
 * Whether this process is the one to end the run's root spans: the first to claim their end, in
 * any process. A finish, a failure and an abort can race (an abort lands while a step runs, and
 * Inngest stops the function only between steps), and each would end them otherwise. False
 * without tracing: there is nothing to end, and no claim is written.
 */
export async function claimSpansEnd(records: RunRecords, runId: string, spans: RunSpanData): Promise<boolean> {
  const spanId = agentSpanId(spans);
  return spanId !== undefined && (await records.claimSpansEnd(runId, spanId));
}

/**
 * Ends the root spans of an aborted run once (see {@link endAbortedRunSpans}), from the step that
 * saw the abort: the LLM step core stopped, or a tool step that returned after it.
 */
export async function endSpansAtAbort(options: {
  records: RunRecords;
  runId: string;
  spans: RunSpanData;
  environment: StepEnvironment;
  stepSpanData?: unknown;
  generationEnded: boolean;
}): Promise<void> {
  const { records, runId, ...ending } = options;
  if (await claimSpansEnd(records, runId, ending.spans)) {
    endAbortedRunSpans(ending);
  }
}

/**
 * After a tool step's call returned: when the run was aborted meanwhile (core's abort reached this
 * process, or the record says so, as `abort()` writes it in any process), Inngest runs no later
 * step, so the run's spans end here, the LLM step's span with them. Reads nothing without tracing.
 */
export async function endSpansIfAborted(options: {
  records: RunRecords;
  runId: string;
  spans: RunSpanData;
  environment: StepEnvironment;
  stepSpanData?: unknown;
}): Promise<void> {
  const { records, runId, spans } = options;
  if (agentSpanId(spans) === undefined) {
    return;
  }
  const aborted = callerStopConditions(runId).aborted || (await records.read(runId))?.status === "aborted";
  if (aborted) {
    await endSpansAtAbort({ ...options, generationEnded: false });
  }
}

/**
 * Opens the spans a resumed run goes on under (see {@link openResumedSpans}) and keeps them in the
 * cache, where the failure handler, which sees only the run input, finds them.
 */
export async function openResumedRunSpans(options: {
  records: RunRecords;
  input: RunInput;
  environment: StepEnvironment;
  suspended: RunSpanData;
}): Promise<RunSpanData | undefined> {
  const { records, ...opening } = options;
  const opened = openResumedSpans(opening);
  if (opened !== undefined) {
    await records.writeRootSpans(opening.input.runId, opened);
  }
  return opened;
}

/**
 * The run's root spans that no suspension ended: those the last resume opened, else the first ones
 * (`first`, or as kept in the cache); none while the run waits for a decision, since its
 * suspension ended them.
 */
async function openRootSpans(
  records: RunRecords,
  runId: string,
  first?: RunSpanData,
): Promise<RunSpanData | undefined> {
  const record = await records.read(runId);
  if ((record?.pendingResumes.length ?? 0) > 0) {
    return undefined;
  }
  return (await records.readRootSpans(runId)) ?? first;
}

/**
 * Ends the root spans of a run that failed, with its error, once (see `openRootSpans`): a run that
 * failed while it waited for a decision (its wait expired) has none open.
 */
export async function endSpansAtFailure(options: {
  records: RunRecords;
  input: RunInput;
  environment: StepEnvironment;
  error: Error;
}): Promise<void> {
  const { records, input, environment, error } = options;
  if (agentSpanId(input) === undefined) {
    return;
  }
  const spans = await openRootSpans(records, input.runId, input);
  if (spans !== undefined && (await claimSpansEnd(records, input.runId, spans))) {
    failRunSpans({ input: { ...input, ...spans }, environment, error });
  }
}

/** Keeps the run's first root spans (the run input's) in the cache, where `abort()` finds them in any process. */
export async function rememberRootSpans(records: RunRecords, runId: string, spans: RunSpanData): Promise<void> {
  if (agentSpanId(spans) !== undefined) {
    const { agentSpanData, modelSpanData } = spans;
    await records.writeRootSpans(runId, { agentSpanData, modelSpanData });
  }
}

/**
 * How long `abort()` leaves a step that saw the abort to end the run's spans (an LLM step does at
 * once; a tool step once its call returns) before it ends them itself.
 */
export const ABORT_SPANS_GRACE_MS = 2_000;

/**
 * After `abort()`: when no step ended the run's spans within {@link ABORT_SPANS_GRACE_MS} (the abort
 * landed between two steps, and Inngest cancelled the run before the next one started), the
 * aborting process ends the root spans it finds in the cache, once. A timer of this process that
 * does not keep it alive: a process that exits first leaves them to no one.
 */
export function endSpansAfterAbort(options: {
  records: RunRecords;
  runId: string;
  mastra: Mastra | undefined;
  publisher: PubSub;
}): void {
  const { records, runId, mastra, publisher } = options;
  const end = async (): Promise<void> => {
    // Nothing without tracing: no root spans were kept.
    const spans = await openRootSpans(records, runId);
    if (spans !== undefined && (await claimSpansEnd(records, runId, spans))) {
      const environment = { mastra, requestContext: new RequestContext(), publisher };
      endAbortedRunSpans({ spans, environment, generationEnded: false });
    }
  };
  // Tracing never fails an abort: a store that fails here leaves the spans open, as before.
  setTimeout(() => void end().catch(() => {}), ABORT_SPANS_GRACE_MS).unref();
}
