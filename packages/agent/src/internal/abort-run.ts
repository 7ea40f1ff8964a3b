import { isFinalRunStatus, streamTopic } from "@mastra/inngest-core";
import { cancelEventName } from "./agent-events.ts";
import type { AgentRuntime } from "./agent-runtime.ts";
import { requestAbort } from "./core-durable/index.ts";
import { clearWaitingRow } from "./mastra-run-row.ts";
import { endSpansAfterAbort } from "./run-spans-end.ts";

/**
 * Aborts a run wherever its steps execute: core's abort request (for a step in progress), the
 * cancel event (Inngest stops the function), and an `abort` event on the stream, since the run may
 * be cancelled before any step sees the request; then the record says `aborted`.
 */
export async function abortRun(runtime: AgentRuntime, runId: string): Promise<void> {
  // A run that ended stays as it ended: a late abort neither rewrites its record nor appends to it.
  const record = await runtime.records.read(runId);
  if (record !== undefined && isFinalRunStatus(record.status)) {
    return;
  }
  const transport = runtime.pubsub();
  await requestAbort(transport, runId);
  await runtime.inngest.send({ name: cancelEventName(runtime.id), data: { runId } });
  // A producer key of its own, so a repeated abort() is stored once.
  const event = { type: "abort", runId, data: { steps: [] }, producer: { stepId: "abort", attempt: 0, sequence: 0 } };
  // A publisher of its own, whose flush reports this event's failure and no other run's.
  const publisher = transport.createPublisher();
  await publisher.publish(streamTopic(runId), event);
  await publisher.flush();
  await runtime.records.write(runId, runtime.id, "aborted");
  endSpansAfterAbort({ records: runtime.records, runId, mastra: runtime.mastra, publisher: transport });
  await clearWaitingRow(runtime.mastra, runId).catch(() => {});
  // A cancelled run runs no more code anywhere: what this process holds for it goes now.
  runtime.callerRuns.release(runId);
}
