import { type Event, type EventCallback, PubSub } from "@mastra/core/events";
import type { Random } from "./random.ts";

/**
 * A live `PubSub` wrapper that loses some deliveries to this process's subscribers, as a network or
 * a slow consumer can: each message is dropped with `probability`, and counted. Publishing is not
 * touched, so only the observer that uses it misses events and must recover them from history.
 */
export class DroppingPubSub extends PubSub {
  /** Deliveries dropped so far. */
  dropped = 0;
  /** Deliveries passed on so far. */
  delivered = 0;
  readonly #inner: PubSub;
  readonly #random: Random;
  readonly #probability: number;
  readonly #wrapped = new Map<string, Map<EventCallback, EventCallback>>();

  constructor(inner: PubSub, random: Random, probability: number) {
    super();
    this.#inner = inner;
    this.#random = random;
    this.#probability = probability;
  }

  override async publish(topic: string, event: Omit<Event, "id" | "createdAt">): Promise<void> {
    await this.#inner.publish(topic, event);
  }

  override async subscribe(topic: string, callback: EventCallback): Promise<void> {
    const wrapped: EventCallback = (event, ack) => {
      if (this.#random.chance(this.#probability)) {
        this.dropped++;
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

  /** Closes the wrapped PubSub. */
  async close(): Promise<void> {
    await (this.#inner as { close?: () => Promise<void> }).close?.();
  }
}
