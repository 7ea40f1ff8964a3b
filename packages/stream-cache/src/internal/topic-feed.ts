import type { Event, PubSub } from "@mastra/core/events";
import { EVENT_BATCH_KIND, type StreamEvent, unpackEvents } from "@mastra/inngest-core";

/** Receives the events of a topic, in order. */
export interface FeedListener {
  receive(events: readonly StreamEvent[]): void;
}

/** What a {@link TopicFeed} needs. */
export interface TopicFeedOptions {
  inner: PubSub;
  topic: string;
  /**
   * Numbers received events into this process's history (a cache not shared across processes);
   * absent when the cache is shared and events arrive with their indices.
   */
  record?: (events: StreamEvent[]) => Promise<StreamEvent[]>;
  onError(message: string, error: unknown): void;
}

/**
 * One subscription to the inner PubSub per topic, however many subscribers: it unpacks batches,
 * numbers events when this process keeps its own history, and hands them to every listener.
 */
export class TopicFeed {
  readonly #options: TopicFeedOptions;
  readonly #listeners = new Set<FeedListener>();
  #recording: Promise<void> = Promise.resolve();
  readonly #handler = (event: Event, ack?: () => Promise<void>): void => {
    void ack?.();
    this.#onMessage(event);
  };

  constructor(options: TopicFeedOptions) {
    this.#options = options;
  }

  /** Subscribes to the inner PubSub; resolves once live delivery has begun. */
  async open(): Promise<void> {
    await this.#options.inner.subscribe(this.#options.topic, this.#handler);
  }

  /** Unsubscribes from the inner PubSub. */
  async close(): Promise<void> {
    this.#listeners.clear();
    await this.#options.inner.unsubscribe(this.#options.topic, this.#handler);
  }

  /** Adds a listener. */
  add(listener: FeedListener): void {
    this.#listeners.add(listener);
  }

  /** Removes a listener; returns how many are left. */
  remove(listener: FeedListener): number {
    this.#listeners.delete(listener);
    return this.#listeners.size;
  }

  #onMessage(message: Event): void {
    let events: StreamEvent[];
    try {
      events =
        message.type === EVENT_BATCH_KIND
          ? unpackEvents(message.data)
          : [{ ...message, createdAt: new Date(message.createdAt as unknown as string) }];
    } catch (error) {
      this.#options.onError(`dropped a malformed message on ${this.#options.topic}`, error);
      return;
    }
    const record = this.#options.record;
    if (record === undefined) {
      this.#dispatch(events);
      return;
    }
    // Recording is asynchronous; chaining keeps the topic's order.
    this.#recording = this.#recording
      .then(async () => this.#dispatch(await record(events)))
      .catch((error: unknown) => this.#options.onError(`could not record events of ${this.#options.topic}`, error));
  }

  #dispatch(events: StreamEvent[]): void {
    if (events.length === 0) {
      return;
    }
    for (const listener of this.#listeners) {
      listener.receive(events);
    }
  }
}
