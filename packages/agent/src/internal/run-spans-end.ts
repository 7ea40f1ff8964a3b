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
 * Ends the root spans of a run that failed, with its error, once: those the last resume opened, or
 * the input's. A run that failed while it waited for a decision (its wait expired) has none open:
 * its suspension ended them.
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
  const record = await records.read(input.runId);
  if ((record?.pendingResumes.length ?? 0) > 0) {
    return;
  }
  const spans = (await records.readRootSpans(input.runId)) ?? input;
  if (await claimSpansEnd(records, input.runId, spans)) {
    failRunSpans({ input: { ...input, ...spans }, environment, error });
  }
}
