import type { Mastra } from "@mastra/core/mastra";
import { isFinalRunStatus, streamTopic } from "@mastra/inngest-core";
import type { CachingPubSub } from "@mastra/inngest-stream-cache";
import { cancelEventName } from "./agent-events.ts";
import type { AgentRuntime } from "./agent-runtime.ts";
import { requestAbort } from "./core-durable/index.ts";
import { clearWaitingRow } from "./mastra-run-row.ts";
import type { RunRecords } from "./run-records.ts";
import { endSpansAfterAbort } from "./run-spans-end.ts";

/** What ending a run as aborted needs: its records, the stream cache and the Mastra instance. */
export interface AbortEnding {
  agentId: string;
  records: RunRecords;
  pubsub: CachingPubSub;
  mastra: Mastra | undefined;
}

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
  await endAbortedRun(
    { agentId: runtime.id, records: runtime.records, pubsub: transport, mastra: runtime.mastra },
    runId,
  );
  // A cancelled run runs no more code anywhere: what this process holds for it goes now.
  runtime.callerRuns.release(runId);
}

/**
 * Ends a run that Inngest stopped as aborted: the `abort` event on its stream, then the record,
 * its root spans and Mastra's row of the waiting run. Both `abort()` and the handler of Inngest's
 * cancellations call it, often for the same run: the event has one producer key, so it is stored
 * once, and writing `aborted` again changes nothing.
 */
export async function endAbortedRun(ending: AbortEnding, runId: string): Promise<void> {
  const { agentId, records, pubsub, mastra } = ending;
  const event = { type: "abort", runId, data: { steps: [] }, producer: { stepId: "abort", attempt: 0, sequence: 0 } };
  // A publisher of its own, whose flush reports this event's failure and no other run's.
  const publisher = pubsub.createPublisher();
  await publisher.publish(streamTopic(runId), event);
  await publisher.flush();
  await records.write(runId, agentId, "aborted");
  endSpansAfterAbort({ records, runId, mastra, publisher: pubsub });
  await clearWaitingRow(mastra, runId).catch(() => {});
}
