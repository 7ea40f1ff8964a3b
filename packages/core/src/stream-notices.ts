import type { StreamEventEnvelope } from "./stream-event.ts";

/**
 * The type of the notice a subscriber gets when a step was retried after it had already delivered
 * events of the failed attempt: discard what that step's older attempts delivered; the new
 * attempt's events follow. Replays that start after the retry never contain the older events, so
 * they get no notice.
 */
export const ATTEMPT_SUPERSEDED_EVENT_TYPE = "attempt-superseded";

/** The data of an {@link ATTEMPT_SUPERSEDED_EVENT_TYPE} notice. */
export interface AttemptSupersededData {
  /** The step whose older attempts are superseded. */
  stepId: string;
  /** The attempt whose events are valid from here on. */
  attempt: number;
  /** The newest attempt that was superseded. */
  supersededAttempt: number;
}

/**
 * The type of the notice a subscriber gets first when the offset it asked for is older than the
 * history still kept (trimmed, expired or cleared): events between the two offsets are gone.
 */
export const OFFSET_EXPIRED_EVENT_TYPE = "offset-expired";

/** The data of an {@link OFFSET_EXPIRED_EVENT_TYPE} notice. */
export interface OffsetExpiredData {
  /** The offset the subscriber asked for. */
  requestedOffset: number;
  /** The first offset still available; the subscriber continues from there. */
  firstAvailableOffset: number;
}

/**
 * Builds the marker a cache stores (with its own index) just before the first event of a newer
 * attempt of a step. Every cache builds it the same way, so replays read the same log anywhere.
 */
export function createSupersededMarker(
  first: Pick<StreamEventEnvelope, "id" | "runId" | "createdAt">,
  data: AttemptSupersededData,
): StreamEventEnvelope {
  return {
    type: ATTEMPT_SUPERSEDED_EVENT_TYPE,
    id: `${first.id}:superseded`,
    runId: first.runId,
    createdAt: first.createdAt,
    data,
  };
}

/**
 * The type of the notice a cache stores in place of each event it finds lost: an event it had
 * acknowledged is gone from Redis (a failover promoted a replica that had not received it yet, or
 * a server without persistence restarted). Its index holds the notice, so every later index stays
 * what subscribers already received; the lost event's content is gone.
 */
export const EVENTS_LOST_EVENT_TYPE = "events-lost";

/** The data of an {@link EVENTS_LOST_EVENT_TYPE} notice. */
export interface EventsLostData {
  /** The first index of the lost range this notice belongs to. */
  firstLostIndex: number;
  /** The last index of that range (inclusive). */
  lastLostIndex: number;
}
