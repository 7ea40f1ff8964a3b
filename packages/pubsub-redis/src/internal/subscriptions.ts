import type { EventCallback } from "@mastra/core/events";
import { describeValue } from "@mastra/inngest-core";
import type { Cluster, Redis } from "ioredis";
import type { RedisPubSubLogger } from "../redis-pubsub-options.ts";
import { settleWithin } from "./command-timeout.ts";
import { closeConnection, isReplyError, reportConnectionErrors } from "./connections.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { decodeEvent } from "./wire-format.ts";

/** What {@link Subscriptions} needs. */
export interface SubscriptionsOptions {
  /** Creates the subscriber connection, on the first subscription. */
  connect: () => Redis | Cluster;
  /**
   * Subscribe with sharded Pub/Sub (SSUBSCRIBE, `smessage`) on a Redis Cluster, through ioredis's
   * sharded subscribers (one connection per master, resubscribed after failovers and slot moves),
   * rather than SUBSCRIBE on one connection watched by the heartbeat.
   */
  sharded: boolean;
  /** The longest wait for Redis to confirm a SUBSCRIBE or UNSUBSCRIBE, in milliseconds. */
  timeoutMs: number;
  heartbeatMs: number;
  logger: RedisPubSubLogger;
  packageName: string;
}

/** The callbacks of one channel, and the confirmation of its SUBSCRIBE. */
interface Channel {
  callbacks: Set<EventCallback>;
  confirmed: Promise<unknown>;
}

const acknowledge = async (): Promise<void> => {};

/**
 * Every subscription of one `RedisPubSub` on one connection: channels are reference-counted (the
 * first callback sends SUBSCRIBE, the last one leaving sends UNSUBSCRIBE) and one `message`
 * listener dispatches by channel. The channel map, not the connection, decides who gets a message,
 * so a channel ioredis resubscribes after a reconnect delivers to nobody once unsubscribed here.
 */
export class Subscriptions {
  readonly #options: SubscriptionsOptions;
  readonly #channels = new Map<string, Channel>();
  #connection: Redis | Cluster | undefined;
  #stopHeartbeat: (() => void) | undefined;
  #closed = false;

  constructor(options: SubscriptionsOptions) {
    this.#options = options;
  }

  /** Adds `callback` to the channel; resolves once Redis confirmed the channel's SUBSCRIBE. */
  async add(channel: string, topic: string, callback: EventCallback): Promise<void> {
    let subscription = this.#channels.get(channel);
    if (subscription === undefined) {
      const subscriber = this.#subscriber();
      const command = this.#options.sharded ? subscriber.ssubscribe(channel) : subscriber.subscribe(channel);
      const confirmed = this.#within(command, "subscribe to", topic);
      subscription = { callbacks: new Set(), confirmed };
      this.#channels.set(channel, subscription);
    }
    subscription.callbacks.add(callback);
    try {
      await subscription.confirmed;
    } catch (error) {
      if (this.#channels.get(channel) === subscription) {
        subscription.callbacks.delete(callback);
        if (subscription.callbacks.size === 0) {
          this.#channels.delete(channel);
          // A SUBSCRIBE that timed out is still queued and may succeed later: undo it behind it.
          if (!isReplyError(error)) {
            void this.#unsubscribe(channel, topic);
          }
        }
      }
      throw error;
    }
  }

  /** Removes `callback` from the channel at once; the last one sends UNSUBSCRIBE and waits for it. */
  async remove(channel: string, topic: string, callback: EventCallback): Promise<void> {
    const subscription = this.#channels.get(channel);
    if (subscription === undefined || !subscription.callbacks.delete(callback) || subscription.callbacks.size > 0) {
      return;
    }
    this.#channels.delete(channel);
    await this.#unsubscribe(channel, topic);
  }

  /** Stops the heartbeat and quits the connection (bounded by `timeoutMs`). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stopHeartbeat?.();
    this.#channels.clear();
    const connection = this.#connection;
    if (connection !== undefined) {
      connection.removeAllListeners(this.#messageEvent());
      await closeConnection(connection, this.#options.timeoutMs);
    }
  }

  #messageEvent(): "message" | "smessage" {
    return this.#options.sharded ? "smessage" : "message";
  }

  #subscriber(): Redis | Cluster {
    if (this.#connection !== undefined) {
      return this.#connection;
    }
    const { heartbeatMs, logger, packageName } = this.#options;
    const connection = this.#options.connect();
    this.#connection = connection;
    reportConnectionErrors(connection, "subscriber", logger, packageName);
    connection.on(this.#messageEvent(), (channel: string, message: string) => this.#deliver(channel, message));
    if (this.#options.sharded) {
      // ioredis replaces a sharded subscriber whose node fails, when it refreshes the slots.
      return connection;
    }
    this.#stopHeartbeat = startHeartbeat(connection as Redis, heartbeatMs, () =>
      logger.warn(
        `[${packageName}] the subscriber connection answered nothing for ${heartbeatMs} ms (heartbeatMs); ` +
          "dropping it to reconnect and subscribe again",
      ),
    );
    return connection;
  }

  #deliver(channel: string, message: string): void {
    const subscription = this.#channels.get(channel);
    if (subscription === undefined) {
      return;
    }
    const { logger, packageName } = this.#options;
    const decoded = decodeEvent(message);
    if ("problem" in decoded) {
      logger.warn(
        `[${packageName}] dropped a message on channel ${describeValue(channel)}: ${decoded.problem}`,
        describeValue(message),
      );
      return;
    }
    const reportFailure = (error: unknown): void =>
      logger.warn(`[${packageName}] a subscriber of channel ${describeValue(channel)} threw`, error);
    for (const callback of [...subscription.callbacks]) {
      try {
        const result: unknown = callback(decoded.event, acknowledge, acknowledge);
        if (result instanceof Promise) {
          result.catch(reportFailure);
        }
      } catch (error) {
        reportFailure(error);
      }
    }
  }

  async #unsubscribe(channel: string, topic: string): Promise<void> {
    const connection = this.#connection;
    if (connection === undefined || this.#closed) {
      return;
    }
    try {
      const command = this.#options.sharded ? connection.sunsubscribe(channel) : connection.unsubscribe(channel);
      await this.#within(command, "unsubscribe from", topic);
    } catch (error) {
      // No callback of the channel is called any more, confirmed or not.
      const { logger, packageName } = this.#options;
      logger.warn(`[${packageName}] Redis did not confirm the UNSUBSCRIBE of ${describeValue(channel)}`, error);
    }
  }

  #within<T>(command: Promise<T>, action: string, topic: string): Promise<T> {
    const { timeoutMs, packageName } = this.#options;
    return settleWithin(command, { timeoutMs, action, topic, packageName });
  }
}
