import { type Event, type EventCallback, PubSub } from "@mastra/core/events";

/**
 * A live `PubSub` wrapper that loses the deliveries `drop` picks before they reach this process's
 * subscribers, as a lossy network or a slow consumer can, and keeps them for the test. Publishing
 * is not touched: only subscribers through this wrapper miss events and must recover them from
 * history. Test support only.
 *
 * @example
 * const lossy = new DroppingPubSub(new RedisPubSub({ url }), (event) => event.type === "finish");
 * const observers = new CachingPubSub(lossy, cache);
 */
export class DroppingPubSub extends PubSub {
  /** The deliveries dropped so far, in order. */
  readonly dropped: Event[] = [];
  /** How many deliveries were passed on so far. */
  delivered = 0;
  readonly #inner: PubSub;
  readonly #drop: (event: Event) => boolean;
  readonly #wrapped = new Map<string, Map<EventCallback, EventCallback>>();

  constructor(inner: PubSub, drop: (event: Event) => boolean) {
    super();
    this.#inner = inner;
    this.#drop = drop;
  }

  override async publish(topic: string, event: Omit<Event, "id" | "createdAt">): Promise<void> {
    await this.#inner.publish(topic, event);
  }

  override async subscribe(topic: string, callback: EventCallback): Promise<void> {
    const wrapped: EventCallback = (event, ack) => {
      if (this.#drop(event)) {
        this.dropped.push(event);
        return;
      }
      this.delivered++;
      return callback(event, ack);
    };
    const forTopic = this.#wrapped.get(topic) ?? new Map<EventCallback, EventCallback>();
    forTopic.set(callback, wrapped);
    this.#wrapped.set(topic, forTopic);
    await this.#inner.subscribe(topic, wrapped);
  }

  override async unsubscribe(topic: string, callback: EventCallback): Promise<void> {
    const forTopic = this.#wrapped.get(topic);
    const wrapped = forTopic?.get(callback);
    forTopic?.delete(callback);
    if (forTopic?.size === 0) {
      this.#wrapped.delete(topic);
    }
    await this.#inner.unsubscribe(topic, wrapped ?? callback);
  }

  override async flush(): Promise<void> {
    await this.#inner.flush();
  }

  /** Closes the wrapped PubSub, when it can be closed. */
  async close(): Promise<void> {
    await (this.#inner as { close?: () => Promise<void> }).close?.();
  }
}
