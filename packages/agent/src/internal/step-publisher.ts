import type { Event, EventCallback, PubSub as PubSubType, SubscribeOptions } from "@mastra/core/events";
import { PubSub } from "@mastra/core/events";
import { parseRunTopic } from "@mastra/inngest-core";

/** A chunk as core publishes it on the run's topic. */
export interface StreamChunk {
  type: string;
  payload?: Record<string, unknown>;
  [field: string]: unknown;
}

/** What the step publishes through: a publisher of its own when the run's PubSub offers one. */
interface Publisher {
  publish(topic: string, event: Omit<Event, "id" | "createdAt">, options?: { localOnly?: boolean }): Promise<void>;
  flush(): Promise<void>;
}

/** Whether `pubsub` gives publishers of their own, whose `flush()` reports only their events' failures. */
function createsPublishers(pubsub: PubSubType): pubsub is PubSubType & { createPublisher(): Publisher } {
  return typeof (pubsub as { createPublisher?: unknown }).createPublisher === "function";
}

/**
 * The PubSub a core step publishes through: it stamps every event with the producer key (this
 * step's id, the Inngest attempt, and a sequence number), so the stream cache stores a repeated
 * publish once and lets a retry's events supersede the failed attempt's. It publishes through a
 * publisher of its own (`CachingPubSub.createPublisher()`), so its `flush()` rejects exactly when
 * one of this step's events was not stored, whatever other steps of the worker flush meanwhile.
 * Everything else goes to the run's PubSub unchanged.
 */
export class StepPublisher extends PubSub {
  readonly #target: PubSubType;
  readonly #publisher: Publisher;
  readonly #stepId: string;
  readonly #attempt: number;
  readonly #held: Array<{ topic: string; event: Omit<Event, "id" | "createdAt"> }> = [];
  readonly #backgroundCalls = new Set<string>();
  readonly #answeredCalls = new Set<string>();
  /** Subscriptions to the run's control topic still being set up, by callback. */
  readonly #subscribing = new Map<EventCallback, Promise<void>>();
  #holdSuspended = false;
  #sequence = 0;
  #rewriteChunk: ((chunk: StreamChunk) => StreamChunk | undefined) | undefined;

  constructor(target: PubSubType, stepId: string, attempt: number) {
    super();
    this.#target = target;
    this.#publisher = createsPublishers(target) ? target.createPublisher() : target;
    this.#stepId = stepId;
    this.#attempt = attempt;
  }

  /** The id of the durable step this publisher publishes for, as the step was named (`tool:0:1`). */
  get stepId(): string {
    return this.#stepId;
  }

  /**
   * Holds events that ask for a decision (`suspended`, and the `tool-call-approval` and
   * `tool-call-suspended` chunks), and any after them, back until {@link releaseHeld}: the step
   * records the pending decision first, so a client that resumes the instant it sees one of them
   * finds the run waiting for it.
   */
  holdSuspendedEvents(): void {
    this.#holdSuspended = true;
  }

  /** Publishes the events held back, in order. */
  async releaseHeld(): Promise<void> {
    this.#holdSuspended = false;
    for (const { topic, event } of this.#held.splice(0)) {
      await this.publish(topic, event);
    }
  }

  /**
   * Rewrites each chunk the step publishes from now on, before it is stored, or leaves it out
   * (`undefined`): for what core streams differently from the plain loop, and what the step learns
   * only after core made the chunk (a retry an output processor asked for).
   */
  rewriteChunks(rewrite: (chunk: StreamChunk) => StreamChunk | undefined): void {
    this.#rewriteChunk = rewrite;
  }

  /** Whether the step dispatched the tool call `toolCallId` as a background task. */
  dispatchedToBackground(toolCallId: string): boolean {
    return this.#backgroundCalls.has(toolCallId);
  }

  /** Whether the step streamed a `tool-result` or `tool-error` for the tool call `toolCallId`. */
  answered(toolCallId: string): boolean {
    return this.#answeredCalls.has(toolCallId);
  }

  override async publish(
    topic: string,
    published: Omit<Event, "id" | "createdAt">,
    options?: { localOnly?: boolean },
  ): Promise<void> {
    const rewrite = this.#rewriteChunk;
    let event = published;
    if (rewrite !== undefined && published.type === "chunk" && typeof published.data?.type === "string") {
      const data = rewrite(published.data as StreamChunk);
      if (data === undefined) {
        return;
      }
      event = { ...published, data };
    }
    const requestsDecision =
      event.type === "suspended" ||
      ((event.data as { type?: string } | undefined)?.type ?? "").match(/^tool-call-(approval|suspended)$/) !== null;
    // Once one event is held, later ones wait behind it, so the stream keeps its order.
    if (this.#holdSuspended && (requestsDecision || this.#held.length > 0)) {
      this.#held.push({ topic, event });
      return;
    }
    const chunk = event.data as { type?: string; payload?: { toolCallId?: string } } | undefined;
    const toolCallId = chunk?.payload?.toolCallId;
    if (toolCallId !== undefined && chunk?.type === "background-task-started") {
      this.#backgroundCalls.add(toolCallId);
    }
    if (toolCallId !== undefined && (chunk?.type === "tool-result" || chunk?.type === "tool-error")) {
      this.#answeredCalls.add(toolCallId);
    }
    const producer = { stepId: this.#stepId, attempt: this.#attempt, sequence: this.#sequence++ };
    await this.#publisher.publish(topic, { ...event, producer } as Omit<Event, "id" | "createdAt">, options);
  }

  /**
   * Subscribes through the run's PubSub. Core's LLM step subscribes to the run's control topic (to
   * hear abort requests from other processes) before it calls the model; that subscription is set
   * up without holding the step up (its handshake is a transport subscription and history reads),
   * as core itself goes on when it fails: an abort request also cancels the run through Inngest at
   * the next step. A failure to set it up is reported, not thrown.
   */
  override subscribe(topic: string, callback: EventCallback, options?: SubscribeOptions): Promise<void> {
    if (options !== undefined || parseRunTopic(topic)?.kind !== "control") {
      return this.#target.subscribe(topic, callback, options);
    }
    const subscribing = this.#target.subscribe(topic, callback).catch((error: unknown) => {
      console.warn(`[@mastra/inngest-agent] could not subscribe to ${topic} for abort requests`, error);
    });
    this.#subscribing.set(callback, subscribing);
    void subscribing.finally(() => {
      if (this.#subscribing.get(callback) === subscribing) {
        this.#subscribing.delete(callback);
      }
    });
    return Promise.resolve();
  }

  /** Unsubscribes, after a subscription still being set up is in place (so it cannot outlive this). */
  override async unsubscribe(topic: string, callback: EventCallback): Promise<void> {
    await this.#subscribing.get(callback);
    return this.#target.unsubscribe(topic, callback);
  }

  /**
   * Resolves once this step's events are stored and sent; rejects when one of them was not: the
   * step then fails, and its retry publishes them again as a newer attempt of the same producer
   * keys, which supersedes what this attempt stored, so nothing is doubled.
   */
  override flush(): Promise<void> {
    return this.#publisher.flush();
  }
}
