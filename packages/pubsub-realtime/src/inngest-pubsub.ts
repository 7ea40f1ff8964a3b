import { randomUUID } from "node:crypto";
import {
  type Event,
  type EventCallback,
  isRunLocalTopic,
  PubSub,
  type PubSubDeliveryMode,
  type SubscribeOptions,
} from "@mastra/core/events";
import {
  describeValue,
  ErrorCode,
  EVENT_BATCH_KIND,
  isEventBatch,
  isTerminalEventType,
  MastraInngestError,
} from "@mastra/inngest-core";
import { type RealtimeAddress, RUN_CHANNEL_PREFIX, RUN_CONTROL_REALTIME_TOPIC, realtimeAddressOf } from "./channels.ts";
import type { InngestClientLike } from "./inngest-client.ts";
import {
  type InngestPubSubOptions,
  invalidOption,
  type ResolvedInngestPubSubOptions,
  resolveInngestPubSubOptions,
} from "./inngest-pubsub-options.ts";
import { ChannelSubscription } from "./internal/channel-subscription.ts";
import { deliver, toEvent } from "./internal/delivery.ts";
import { packageName } from "./internal/package-name.ts";
import { createRealtimeTransport, type RealtimeTransport } from "./internal/realtime-transport.ts";
import { withTimeout } from "./internal/timers.ts";

/**
 * A Mastra `PubSub` on Inngest Realtime: workers publish through the Inngest client, and any
 * process subscribes over a WebSocket, with no infrastructure besides Inngest. Works with an
 * `inngest` v4 client and with a v3 client (3.50 or later); which one is detected from its API.
 *
 * Delivery is live and at most once: a subscriber receives what is published while its WebSocket
 * is open, in publish order per topic; Inngest Realtime keeps no history, so nothing is replayed
 * (`supportsOffsets` is `false`). Wrap it in `CachingPubSub` of `@mastra/inngest-stream-cache` for
 * streams that resume without gaps. Topics map to channels as `realtimeAddressOf()` documents.
 *
 * Each channel has one WebSocket in this instance, shared by every callback of its topics; a
 * WebSocket that closes without being asked to is reopened with backoff, and the callbacks of its
 * topics then receive a `realtime-gap` event. Terminal events (`finish`, `error`, `abort`), batches
 * holding one, and control messages are never dropped silently: a failed publish of one rejects,
 * so the step that published it fails and Inngest retries it; other failed publishes are logged
 * with the run id and dropped.
 *
 * @example
 * const pubsub = new InngestPubSub(inngest);
 * await pubsub.subscribe("agent.stream.run-1", (event) => console.log(event.type, event.data));
 * await pubsub.publish("agent.stream.run-1", { type: "chunk", runId: "run-1", data: { text: "hi" } });
 * await pubsub.close();
 */
export class InngestPubSub extends PubSub {
  /**
   * What this PubSub guarantees, declared: events of one topic arrive in publish order, any process
   * with an Inngest client of the same environment receives them, and nothing is kept for replay.
   */
  readonly capabilities: { readonly ordered: true; readonly replay: false; readonly crossProcess: true } =
    Object.freeze({ ordered: true, replay: false, crossProcess: true });

  /** The major version of the Inngest SDK the client is from, as detected. */
  readonly sdkMajor: 3 | 4;

  readonly #transport: RealtimeTransport;
  readonly #options: ResolvedInngestPubSubOptions;
  readonly #channels = new Map<string, ChannelSubscription>();
  /** Callbacks of run-local topics (`workflow.events.v2.*`), which never leave this process. */
  readonly #localTopics = new Map<string, Set<EventCallback>>();
  readonly #inFlight = new Set<Promise<void>>();
  #closing: Promise<void> | undefined;

  /**
   * @param inngest - An `Inngest` client of `inngest` v4, or v3 from 3.50 on. It stays yours:
   *   `close()` only closes the WebSockets this instance opened.
   * @param options - See {@link InngestPubSubOptions}; invalid values throw `INVALID_OPTION`.
   */
  constructor(inngest: InngestClientLike, options?: InngestPubSubOptions) {
    super();
    this.#transport = createRealtimeTransport(inngest);
    this.#options = resolveInngestPubSubOptions(options);
    this.sdkMajor = this.#transport.sdkMajor;
  }

  /** Events are pushed to subscribers as they arrive; there is no read loop to drive. */
  override get supportedModes(): ReadonlyArray<PubSubDeliveryMode> {
    return ["push"];
  }

  /**
   * Publishes an event to the topic's channel: the whole event with a new `id` and `createdAt`
   * (an `index` and other fields are kept; a batch's `data` travels unchanged), with the Inngest run
   * id attached when called inside a function run. Resolves once Inngest accepted it. Rejects with
   * `INVALID_ID` for a bad topic and `INVALID_MESSAGE` for an event that is not JSON (nothing is
   * sent), and `TRANSPORT_CLOSED` after `close()`. When Inngest refuses it, cannot be reached, or
   * has not accepted it within `publishTimeoutMs`, a terminal event, a batch holding one, or a
   * control message rejects with `TRANSPORT_CLOSED` (its cause is the SDK's error); any other
   * event is logged with its run id and dropped. Inside
   * `step.run` the publish repeats when the step is retried. With `options.localOnly`, and for
   * run-local topics, the event goes only to this instance's subscribers, never to Inngest.
   */
  override async publish(
    topic: string,
    event: Omit<Event, "id" | "createdAt">,
    options?: { localOnly?: boolean },
  ): Promise<void> {
    this.#assertOpen();
    if (isRunLocalTopic(topic)) {
      this.#deliverLocally(topic, undefined, event);
      return;
    }
    const address = realtimeAddressOf(topic);
    const payload = { ...event, id: randomUUID(), createdAt: new Date().toISOString() };
    try {
      JSON.stringify(payload);
    } catch (error) {
      throw new MastraInngestError(
        `[${packageName}] a ${describeValue(event.type)} event on ${topic} must be JSON-serializable`,
        { code: ErrorCode.INVALID_MESSAGE, cause: error },
      );
    }
    if (options?.localOnly === true) {
      this.#deliverLocally(topic, address, payload);
      return;
    }
    const sending = withTimeout(
      this.#transport.publish(address, payload),
      this.#options.publishTimeoutMs,
      `Inngest did not accept the publish within ${this.#options.publishTimeoutMs} ms`,
    );
    const settled = sending.then(
      () => undefined,
      () => undefined,
    );
    this.#inFlight.add(settled);
    void settled.then(() => this.#inFlight.delete(settled));
    try {
      await sending;
    } catch (error) {
      const what = `a ${describeValue(event.type)} event of run ${describeValue(event.runId)} on ${topic}`;
      if (mustNotBeDropped(address, event)) {
        throw new MastraInngestError(
          `[${packageName}] could not publish ${what}; it must not be lost, so the publish fails (inside a step, Inngest retries the step)`,
          { code: ErrorCode.TRANSPORT_CLOSED, cause: error },
        );
      }
      this.#options.logger.warn(`[${packageName}] dropped ${what}: the publish failed`, error);
    }
  }

  /**
   * Calls `callback(event, ack)` for every event published to the topic from now on (`ack` does
   * nothing). Resolves once a WebSocket carrying the topic is open; the first subscription of a
   * channel opens its socket, a new topic of an open channel replaces it with one carrying every
   * topic. A callback that throws or rejects is reported to the logger. Rejects with `INVALID_ID`
   * for a bad topic, `INVALID_OPTION` for `options.group` (every subscriber receives every
   * message), and `TRANSPORT_CLOSED` after `close()` or when the socket could not be opened within
   * `connectTimeoutMs`. Run-local topics are subscribed in this process only.
   */
  override async subscribe(topic: string, callback: EventCallback, options?: SubscribeOptions): Promise<void> {
    this.#assertOpen();
    if (typeof callback !== "function") {
      throw invalidOption("callback", "a function", callback);
    }
    if (options?.group !== undefined) {
      throw invalidOption(
        "group",
        "absent (Inngest Realtime delivers every message to every subscriber)",
        options.group,
      );
    }
    if (isRunLocalTopic(topic)) {
      const callbacks = this.#localTopics.get(topic) ?? new Set<EventCallback>();
      callbacks.add(callback);
      this.#localTopics.set(topic, callbacks);
      return;
    }
    const address = realtimeAddressOf(topic);
    let channel = this.#channels.get(address.channel);
    if (channel === undefined) {
      channel = new ChannelSubscription({
        channel: address.channel,
        transport: this.#transport,
        settings: this.#options,
        onLost: (lost) => this.#forget(lost),
      });
      this.#channels.set(address.channel, channel);
    }
    try {
      await channel.add(address.topic, topic, callback);
    } catch (error) {
      if (channel.isEmpty) {
        await this.#drop(channel);
      }
      throw error;
    }
  }

  /**
   * Stops delivery to `callback` (the function that was subscribed) at once; the last callback of a
   * channel closes its WebSocket. A callback that was never subscribed resolves.
   */
  override async unsubscribe(topic: string, callback: EventCallback): Promise<void> {
    if (isRunLocalTopic(topic)) {
      const callbacks = this.#localTopics.get(topic);
      if (callbacks?.delete(callback) === true && callbacks.size === 0) {
        this.#localTopics.delete(topic);
      }
      return;
    }
    const address = realtimeAddressOf(topic);
    const channel = this.#channels.get(address.channel);
    if (channel === undefined) {
      return;
    }
    channel.remove(address.topic, callback);
    if (channel.isEmpty) {
      await this.#drop(channel);
    }
  }

  /** Resolves once every publish in flight has been accepted or has failed. */
  override async flush(): Promise<void> {
    await Promise.all([...this.#inFlight]);
  }

  /**
   * Waits for publishes in flight, then closes every WebSocket this instance opened and forgets
   * every callback. Later `publish()` and `subscribe()` calls reject with `TRANSPORT_CLOSED`. The
   * Inngest client is not touched. Safe to call twice.
   */
  async close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.flush();
      const channels = [...this.#channels.values()];
      this.#channels.clear();
      this.#localTopics.clear();
      await Promise.all(channels.map((channel) => channel.close()));
    })();
    await this.#closing;
  }

  #deliverLocally(topic: string, address: RealtimeAddress | undefined, payload: object): void {
    const event = toEvent({ id: randomUUID(), createdAt: new Date().toISOString(), ...payload });
    if (event === undefined) {
      throw invalidOption("event", "an object with a string type", payload);
    }
    if (address === undefined) {
      for (const callback of [...(this.#localTopics.get(topic) ?? [])]) {
        deliver(callback, { ...event }, topic, this.#options.logger);
      }
      return;
    }
    this.#channels.get(address.channel)?.deliverLocally(address.topic, event);
  }

  async #drop(channel: ChannelSubscription): Promise<void> {
    this.#forget(channel);
    await channel.close();
  }

  #forget(channel: ChannelSubscription): void {
    if (this.#channels.get(channel.channel) === channel) {
      this.#channels.delete(channel.channel);
    }
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) {
      throw new MastraInngestError(`[${packageName}] this InngestPubSub is closed`, {
        code: ErrorCode.TRANSPORT_CLOSED,
      });
    }
  }
}

/** Terminal events, batches holding one, and control messages: a failed publish must reach the caller. */
function mustNotBeDropped(address: RealtimeAddress, event: Omit<Event, "id" | "createdAt">): boolean {
  if (address.channel.startsWith(RUN_CHANNEL_PREFIX) && address.topic === RUN_CONTROL_REALTIME_TOPIC) {
    return true;
  }
  if (isTerminalEventType(event.type)) {
    return true;
  }
  if (event.type === EVENT_BATCH_KIND && isEventBatch(event.data) && Array.isArray(event.data.events)) {
    return event.data.events.some((envelope) => isTerminalEventType(String(envelope?.type)));
  }
  return false;
}
