/**
 * The type of the event `InngestPubSub` delivers to a topic's subscribers when their live feed may
 * have missed events: after the WebSocket closed and was opened again (`reason: "reconnected"`),
 * and when it could not be opened again (`reason: "lost"`, after which nothing more arrives until
 * `subscribe()` is called again). Inngest Realtime keeps no history, so what was published while
 * the socket was down is gone from the live feed; a `CachingPubSub` above reads it from its cache.
 * The event has no `index`; consumers that do not know the type ignore it.
 */
export const REALTIME_GAP_EVENT_TYPE = "realtime-gap";

/** The `data` of a {@link REALTIME_GAP_EVENT_TYPE} event. */
export interface RealtimeGapData {
  /** The PubSub topic whose feed has a gap. */
  topic: string;
  /** `reconnected`: live again, events in between may be missing; `lost`: no longer live. */
  reason: "reconnected" | "lost";
  /** When the WebSocket closed, as an ISO date string. */
  disconnectedAt: string;
  /** Connection attempts made after the close. */
  attempts: number;
}
