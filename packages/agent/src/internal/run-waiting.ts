import { streamTopic } from "@mastra/inngest-core";
import type { RunRecords } from "./run-records.ts";
import type { StepPublisher } from "./step-publisher.ts";

/**
 * The event a run publishes on its stream topic when it starts to wait for decisions (every call
 * that needs one was requested): streams end there, as the plain agent's stream ends at a
 * suspension, while the run itself waits on Inngest for `resume()`. One of core's
 * `WAITING_EVENT_TYPES`: the stream cache keeps the history it closes as long as the wait can last.
 */
export const RUN_WAITING_EVENT_TYPE = "run-waiting";

/** One suspension the run waits for: a tool call, and when it asked (a call may suspend again). */
export interface WaitingSuspension {
  toolCallId: string;
  requestedAt: string;
}

/** Publishes {@link RUN_WAITING_EVENT_TYPE} with the suspensions the run waits for. */
export async function publishRunWaiting(
  publisher: StepPublisher,
  runId: string,
  waiting: WaitingSuspension[],
): Promise<void> {
  await publisher.publish(streamTopic(runId), { type: RUN_WAITING_EVENT_TYPE, runId, data: { waiting } });
}

/**
 * Whether a stream ends at this waiting event. A `resume()` stream starts before the run may have
 * said it waits for the very suspension being resumed: it goes past that one, and ends at the next.
 */
export function endsStreamAt(data: unknown, resumed: WaitingSuspension | undefined): boolean {
  if (resumed === undefined) {
    return true;
  }
  return !suspensionsOf(data).some(
    (entry) => entry.toolCallId === resumed.toolCallId && entry.requestedAt === resumed.requestedAt,
  );
}

/**
 * Whether the run really waits at this waiting event: one of its suspensions is still pending on
 * the run's record (decisions' own keys may expire sooner) and has no recorded decision yet.
 */
export async function waitsForDecision(records: RunRecords, runId: string, data: unknown): Promise<boolean> {
  const waiting = suspensionsOf(data);
  const pending = (await records.read(runId))?.pendingResumes ?? [];
  for (const suspension of waiting) {
    const stillPending = pending.some(
      (entry) => entry.toolCallId === suspension.toolCallId && entry.requestedAt === suspension.requestedAt,
    );
    if (stillPending && (await records.readDecision(runId, suspension)) === undefined) {
      return true;
    }
  }
  return false;
}

function suspensionsOf(data: unknown): WaitingSuspension[] {
  return (data as { waiting?: WaitingSuspension[] } | undefined)?.waiting ?? [];
}
