import { randomUUID } from "node:crypto";
import type { MastraServerCache } from "@mastra/core/cache";
import { type Event, type EventCallback, isRunLocalTopic, PubSub, type SubscribeOptions } from "@mastra/core/events";
import {
  ATTEMPT_SUPERSEDED_EVENT_TYPE,
  assertValidOffset,
  assertValidTopic,
  createKeyLayout,
  ErrorCode,
  getStreamCacheCapabilities,
  isTerminalEventType,
  type KeyLayout,
  MastraInngestError,
  type ProducerKey,
  parseRunTopic,
  type StreamEvent,
  type StreamEventEnvelope,
} from "@mastra/inngest-core";
import type { CachingPublisher } from "./caching-publisher.ts";
import {
  type CachingPubSubOptions,
  type ResolvedCachingPubSubOptions,
  resolveCachingPubSubOptions,
} from "./caching-pubsub-options.ts";
import { cacheFailure } from "./internal/cache-failures.ts";
import { type CacheWriter, createCacheWriter } from "./internal/cache-writer.ts";
import { EventWriter, type QueuedEvent } from "./internal/event-writer.ts";
import { HistoryReader } from "./internal/history-reader.ts";
import { PublishOwner, PublishQueue } from "./internal/publish-queue.ts";
import {
  ReplayingSubscription,
  type SubscriptionStart,
  type SubscriptionState,
} from "./internal/replaying-subscription.ts";
import { TopicFeed } from "./internal/topic-feed.ts";

const packageName = "@mastra/inngest-stream-cache";

interface Listener {
  subscription: ReplayingSubscription;
  feed: TopicFeed;
}

/**
 * A `PubSub` that makes streams resumable: it wraps an inner `PubSub` (live delivery) and a
 * `MastraServerCache` (history). Every event gets its `index` from one atomic append before it is
 * sent; a publish repeated with the same producer key is stored and delivered once; a newer
 * attempt of a step supersedes the older attempt's events; subscribers replay from any offset in
 * pages and then follow the live tail, each index once and in order, filling gaps from history and
 * re-reading it when the live feed goes quiet. Publishing is batched by group commit (no timer).
 *
 * With a cache shared across processes (it declares `crossProcess`, as Redis does), indices come
 * from the cache and any process can replay. With one that is not (in-memory), each process
 * numbers the events it publishes and receives into its own history: replay works within that
 * process only. See the package README for what each kind of cache guarantees.
 *
 * @example
 * const pubsub = new CachingPubSub(new EventEmitterPubSub(), new InMemoryStreamCache());
 * await pubsub.subscribeFromOffset("agent.stream.run-1", 0, (event) => console.log(event.index, event.type));
 */
export class CachingPubSub extends PubSub {
  readonly #inner: PubSub;
  readonly #options: ResolvedCachingPubSubOptions;
  readonly #layout: KeyLayout;
  readonly #writer: CacheWriter;
  readonly #reader: HistoryReader;
  readonly #crossProcess: boolean;
  readonly #events: EventWriter;
  readonly #queue: PublishQueue<QueuedEvent>;
  readonly #feeds = new Map<string, Promise<TopicFeed>>();
  readonly #listeners = new Map<string, Map<EventCallback, Listener>>();
  #closed = false;

  constructor(inner: PubSub, cache: MastraServerCache, options: CachingPubSubOptions = {}) {
    super();
    this.#inner = inner;
    this.#options = resolveCachingPubSubOptions(options);
    this.#layout = createKeyLayout({ keyPrefix: this.#options.keyPrefix });
    this.#writer = createCacheWriter(cache);
    this.#reader = new HistoryReader(cache, this.#options.historyPageSize);
    this.#crossProcess = getStreamCacheCapabilities(cache).crossProcess;
    this.#events = new EventWriter({
      inner,
      cache,
      writer: this.#writer,
      layout: this.#layout,
      options: this.#options,
    });
    this.#queue = new PublishQueue<QueuedEvent>({
      batchWindowMs: this.#options.batchWindowMs,
      maxBatchEvents: this.#options.batching ? this.#options.maxBatchEvents : 1,
      maxQueuedEvents: this.#options.maxQueuedEvents,
      write: (items, retrying) => this.#events.write(items, retrying),
    });
  }

  /** Subscribers can start from any offset. */
  override get supportsOffsets(): boolean {
    return true;
  }

  /** Whether the history is shared across processes, so any process can replay any topic. */
  get crossProcess(): boolean {
    return this.#crossProcess;
  }

  /**
   * Queues an event: it is stored with its index and then sent, in publish order. Resolves at once
   * for ordinary events, and once stored and sent for terminal events, control messages and when
   * batching is off. A failed write is tried again (`writeRetries`); meanwhile publishes wait for
   * its outcome. Once a write failed for good, `flush()` and every publish to the same topic until
   * that `flush()` reject with a `MastraInngestError` that names the cause (a publisher from
   * {@link createPublisher} has failures of its own instead). Rejects at once, storing nothing, for
   * an event over `maxEventBytes` (`PAYLOAD_TOO_LARGE`), data that is not JSON, or after `close()`
   * (`TRANSPORT_CLOSED`). A `producer` field on the event (step id, attempt, sequence) is kept for
   * deduplication and attempt ordering.
   */
  override async publish(
    topic: string,
    event: Omit<Event, "id" | "createdAt" | "index">,
    options?: { localOnly?: boolean },
  ): Promise<void> {
    return this.#publish(this.#queue.shared, topic, event, options);
  }

  /**
   * A publisher of its own: what it publishes goes to the same topics, in the same order, but a
   * failed write is reported to the publishers of the events it did not store, by their own
   * `flush()`, not to whichever caller flushes first. Give one to each unit of work that must fail
   * when its events were not stored (a step), and drop it when that work ends: its failures go
   * with it (at most one per topic it published to). `flush()` of the `CachingPubSub` still
   * reports every failure, but does not take them from the publishers they belong to.
   *
   * @example
   * const publisher = pubsub.createPublisher();
   * await publisher.publish("agent.stream.run-1", { type: "chunk", runId: "run-1", data: { text: "hi" } });
   * await publisher.flush(); // rejects when one of its events was not stored
   */
  createPublisher(): CachingPublisher {
    const owner = new PublishOwner();
    return {
      publish: (topic, event, options) => this.#publish(owner, topic, event, options),
      flush: async () => {
        await this.#queue.flush(owner);
        await this.#inner.flush();
      },
    };
  }

  async #publish(
    owner: PublishOwner,
    topic: string,
    event: Omit<Event, "id" | "createdAt" | "index">,
    options: { localOnly?: boolean } | undefined,
  ): Promise<void> {
    this.#assertOpen();
    if (options?.localOnly === true || isRunLocalTopic(topic) || this.#options.shouldCache?.(topic) === false) {
      return this.#inner.publish(topic, event, options);
    }
    assertValidTopic(topic, "topic", packageName);
    const envelope: StreamEventEnvelope = {
      type: event.type,
      id: randomUUID(),
      runId: event.runId,
      data: event.data,
      createdAt: new Date().toISOString(),
    };
    const producer = (event as { producer?: ProducerKey }).producer;
    if (producer !== undefined) {
      envelope.producer = producer;
    }
    this.#assertSize(envelope);
    const urgent =
      !this.#options.batching || isTerminalEventType(event.type) || parseRunTopic(topic)?.kind === "control";
    return this.#queue.enqueue({ item: { topic, envelope }, owner, urgent });
  }

  /** Live events from now on (the tail); with `group`, the inner PubSub's competing consumers. */
  override async subscribe(topic: string, callback: EventCallback, options?: SubscribeOptions): Promise<void> {
    this.#assertOpen();
    if (options?.group !== undefined || isRunLocalTopic(topic) || this.#options.shouldCache?.(topic) === false) {
      return this.#inner.subscribe(topic, callback, options);
    }
    await this.#listen(topic, callback, "latest");
  }

  /** Every stored event from index 0, then live ones. */
  override async subscribeWithReplay(topic: string, callback: EventCallback): Promise<void> {
    await this.subscribeFromOffset(topic, 0, callback);
  }

  /**
   * Stored events from `offset` (an index, or `'latest'` for the tail), then live ones; resolves
   * once the history has been delivered. An offset older than the history kept first delivers an
   * `offset-expired` notice; an offset past the end waits for events at that index. Rejects with a
   * `MastraInngestError` naming the cause, subscribing nothing, when the history cannot be read;
   * events it delivered before the failure stay delivered, so subscribe again from the index after
   * the last one received.
   */
  override async subscribeFromOffset(topic: string, offset: number | "latest", callback: EventCallback): Promise<void> {
    this.#assertOpen();
    await this.#listen(topic, callback, assertValidOffset(offset, "offset", packageName));
  }

  /** Stops delivering to `callback` (the same function that was subscribed). */
  override async unsubscribe(topic: string, callback: EventCallback): Promise<void> {
    const listener = this.#listeners.get(topic)?.get(callback);
    if (listener === undefined) {
      return this.#inner.unsubscribe(topic, callback);
    }
    await this.#release(topic, callback, listener);
  }

  /**
   * The stored events of a topic from `offset`, without superseded attempts or notices. Use the last
   * event's `index` + 1 to continue, not the length of the array.
   */
  override async getHistory(topic: string, offset = 0): Promise<Event[]> {
    const keys = this.#layout.topic(assertValidTopic(topic, "topic", packageName));
    await this.#queue.settle();
    const attempts = await this.#reader.attempts(keys);
    const history: Event[] = [];
    for await (const page of this.#reader.pages(keys, offset)) {
      for (const event of page) {
        const newest = event.producer === undefined ? undefined : attempts.get(event.producer.stepId);
        if (
          event.type === ATTEMPT_SUPERSEDED_EVENT_TYPE ||
          (newest !== undefined && (event.producer?.attempt ?? 0) < newest)
        ) {
          continue;
        }
        history.push(event);
      }
    }
    return history;
  }

  /**
   * Resolves when everything published so far is stored and sent; rejects with the first failure
   * since the last `flush()`, whoever published the events it lost, and lets publishes to the
   * topics that failed start afresh. The failures of publishers from {@link createPublisher} stay
   * theirs to report as well.
   */
  override async flush(): Promise<void> {
    await this.#queue.flush();
    await this.#inner.flush();
  }

  /** Removes a topic's stored history at once (best effort: failures are reported, not thrown). */
  override async clearTopic(topic: string): Promise<void> {
    await this.#queue.settle();
    // With its history gone, publishing to the topic can start afresh: nothing can follow a gap.
    this.#queue.shared.forget(topic);
    try {
      await this.#writer.clear(this.#layout.topic(assertValidTopic(topic, "topic", packageName)));
    } catch (error) {
      this.#warn(`could not clear ${topic}`, error);
    }
    await this.#inner.clearTopic(topic);
  }

  /**
   * What this process's subscriptions to a topic are doing: for each, the next index it delivers,
   * whether it ended or was closed, what it holds back and when it re-reads history next. For
   * diagnostics (a stream that seems stuck); empty when nothing here subscribes to the topic.
   */
  inspect(topic: string): SubscriptionState[] {
    return [...(this.#listeners.get(topic)?.values() ?? [])].map((listener) => listener.subscription.state());
  }

  /** Keeps a topic's history at least `ttlMs` more, for example while its run waits for a human. */
  async retain(topic: string, ttlMs: number): Promise<void> {
    await this.#writer.retain(this.#layout.topic(assertValidTopic(topic, "topic", packageName)), ttlMs);
  }

  /**
   * Flushes what is queued, stops every subscription and closes the inner PubSub when it has a
   * `close()`. The cache is not closed: it belongs to whoever created it. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    await this.#queue
      .flush()
      .catch((error: unknown) => this.#warn("events queued before close() were not all stored", error));
    for (const [topic, listeners] of this.#listeners) {
      for (const [callback, listener] of listeners) {
        await this.#release(topic, callback, listener);
      }
    }
    await (this.#inner as { close?: () => Promise<void> | void }).close?.();
  }

  async #listen(topic: string, callback: EventCallback, start: SubscriptionStart): Promise<void> {
    const keys = this.#layout.topic(assertValidTopic(topic, "topic", packageName));
    const existing = this.#listeners.get(topic)?.get(callback);
    if (existing !== undefined) {
      await this.#release(topic, callback, existing);
    }
    const subscription = new ReplayingSubscription({
      topic,
      keys,
      callback,
      start,
      reader: this.#reader,
      idleRecheckMs: this.#options.idleRecheckMs,
      onError: (message, error) => this.#warn(message, error),
    });
    const feed = await this.#feed(topic);
    feed.add(subscription);
    // What this process published before subscribing is stored before history is read.
    await this.#queue.settle();
    const listeners = this.#listeners.get(topic) ?? new Map<EventCallback, Listener>();
    const listener: Listener = { subscription, feed };
    listeners.set(callback, listener);
    this.#listeners.set(topic, listeners);
    try {
      await subscription.start();
    } catch (error) {
      // A subscription whose history could not be read would deliver nothing, ever: give the
      // caller the failure instead, so it can subscribe again.
      await this.#release(topic, callback, listener);
      throw cacheFailure(
        `could not read the history of ${topic} to subscribe from ${String(start)}`,
        error,
        "Nothing stays subscribed: subscribe again from the index after the last event received",
      );
    }
  }

  async #release(topic: string, callback: EventCallback, listener: Listener): Promise<void> {
    listener.subscription.close();
    const listeners = this.#listeners.get(topic);
    listeners?.delete(callback);
    if (listeners?.size === 0) {
      this.#listeners.delete(topic);
    }
    if (listener.feed.remove(listener.subscription) === 0 && this.#listeners.get(topic) === undefined) {
      this.#feeds.delete(topic);
      await listener.feed.close();
    }
  }

  #feed(topic: string): Promise<TopicFeed> {
    let feed = this.#feeds.get(topic);
    if (feed === undefined) {
      const created = new TopicFeed({
        inner: this.#inner,
        topic,
        onError: (message, error) => this.#warn(message, error),
        ...(this.#crossProcess ? {} : { record: (events: StreamEvent[]) => this.#events.record(topic, events) }),
      });
      feed = created.open().then(() => created);
      this.#feeds.set(topic, feed);
      feed.catch(() => this.#feeds.delete(topic));
    }
    return feed;
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new MastraInngestError(`[${packageName}] this CachingPubSub is closed`, {
        code: ErrorCode.TRANSPORT_CLOSED,
      });
    }
  }

  #assertSize(envelope: StreamEventEnvelope): void {
    let size: number;
    try {
      size = Buffer.byteLength(JSON.stringify(envelope));
    } catch (error) {
      throw new MastraInngestError(`[${packageName}] event data must be JSON-serializable (type ${envelope.type})`, {
        code: ErrorCode.INVALID_MESSAGE,
        cause: error,
      });
    }
    if (size > this.#options.maxEventBytes) {
      throw new MastraInngestError(
        `[${packageName}] a ${envelope.type} event of ${size} bytes is larger than maxEventBytes (${this.#options.maxEventBytes})`,
        { code: ErrorCode.PAYLOAD_TOO_LARGE },
      );
    }
  }

  #warn(message: string, error: unknown): void {
    const logger = this.#options.logger;
    if (logger !== undefined) {
      logger.warn(`[${packageName}] ${message}`, error);
    } else {
      console.warn(`[${packageName}] ${message}`, error);
    }
  }
}
