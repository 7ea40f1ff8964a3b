import type { Event } from "@mastra/core/events";
import { ATTEMPT_SUPERSEDED_EVENT_TYPE, EVENTS_LOST_EVENT_TYPE, OFFSET_EXPIRED_EVENT_TYPE } from "@mastra/inngest-core";

/** The stream cache's notices, which a stream with indexed chunks passes on as `data-<type>` chunks. */
const NOTICE_TYPES: ReadonlySet<string> = new Set([
  ATTEMPT_SUPERSEDED_EVENT_TYPE,
  OFFSET_EXPIRED_EVENT_TYPE,
  EVENTS_LOST_EVENT_TYPE,
]);

/**
 * `chunk` with `metadata.eventIndex`, the index in the run's history of the event it came from, so
 * a client that rendered it reconnects with `observe(runId, { offset: eventIndex + 1 })`. A copy:
 * the event's data may be delivered to other subscribers too.
 */
export function withEventIndex<T>(chunk: T, event: Event): T {
  if (event.index === undefined || typeof chunk !== "object" || chunk === null) {
    return chunk;
  }
  const { metadata } = chunk as { metadata?: Record<string, unknown> };
  return { ...chunk, metadata: { ...metadata, eventIndex: event.index } };
}

/**
 * The chunk a notice of the stream cache becomes (`attempt-superseded`, `offset-expired`,
 * `events-lost`), or
 * undefined for any other event. A client of a live stream needs them: after `attempt-superseded`
 * it drops what the retried step delivered, since the new attempt's chunks follow.
 */
export function noticeChunk(event: Event, runId: string): Record<string, unknown> | undefined {
  if (!NOTICE_TYPES.has(event.type)) {
    return undefined;
  }
  return withEventIndex({ type: `data-${event.type}`, runId, from: "AGENT", data: event.data }, event);
}
