import type { Event } from "@mastra/core/events";

/**
 * A publisher of its own on a `CachingPubSub` (see `CachingPubSub.createPublisher()`): its
 * `flush()` reports the failures of its own events only, so publishers sharing one `CachingPubSub`
 * (the steps of several runs in one worker) each learn exactly whether their events were stored.
 */
export interface CachingPublisher {
  /**
   * As `CachingPubSub.publish()`; once one of this publisher's events of `topic` was not
   * stored, its later publishes to `topic` reject with that failure until its `flush()` reported it.
   */
  publish(
    topic: string,
    event: Omit<Event, "id" | "createdAt" | "index">,
    options?: { localOnly?: boolean },
  ): Promise<void>;
  /**
   * Resolves when everything this publisher published is stored and sent (and what is queued
   * ahead of it written); rejects with a `MastraInngestError` naming the cause when any of its
   * events was not stored since its last `flush()`, then publishing to that topic starts afresh.
   */
  flush(): Promise<void>;
}
