import {
  agentSpanId,
  callerStopConditions,
  endAbortedRunSpans,
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
