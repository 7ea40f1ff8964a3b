import type { MastraServerCache } from "@mastra/core/cache";
import {
  type Event,
  type EventCallback,
  PubSub,
  type PubSubDeliveryMode,
  type SubscribeOptions,
} from "@mastra/core/events";
import {
  assertValidTopic,
  type CacheNotifiedPubSub,
  describeValue,
  ErrorCode,
  invalidOption as invalidOptionError,
  MastraInngestError,
  parseRunTopic,
  type RedisClientLike,
  redisServerIdentity,
} from "@mastra/inngest-core";
import type { Cluster, Redis } from "ioredis";
import { settleWithin } from "./internal/command-timeout.ts";
import {
  closeConnection,
  createClusterConnection,
  createConnection,
  duplicateForSubscriptions,
  isCluster,
  reportConnectionErrors,
} from "./internal/connections.ts";
import { Subscriptions } from "./internal/subscriptions.ts";
import { encodeEvent } from "./internal/wire-format.ts";
import {
  packageName,
  type RedisPubSubOptions,
  type ResolvedRedisPubSubOptions,
  resolveRedisPubSubOptions,
} from "./redis-pubsub-options.ts";

/**
 * A Mastra `PubSub` over Redis pub/sub (PUBLISH and SUBSCRIBE), for events shared by every process
 * on one Redis. Delivery is live and at most once: a subscriber receives what is published while it
 * is subscribed, in publish order per topic; what is published while its connection is down is
 * lost, as with any Redis pub/sub. Wrap it in `CachingPubSub` of `@mastra/inngest-stream-cache`
 * with a Redis cache for streams that resume without gaps.
 *
 * Every instance uses one connection to publish (yours with `client`, or its own with `url`) and
 * one more for all its subscriptions, created on the first `subscribe()`, whatever the number of
 * topics and callbacks. That connection sends a PING every `heartbeatMs` and is dropped and
 * reconnected when it stops answering; ioredis then subscribes to every channel again.
 *
 * On a Redis Cluster (an ioredis `Cluster` as `client`, or `clusterNodes`) it uses sharded Pub/Sub:
 * SPUBLISH and SSUBSCRIBE on `channelPrefix + "{" + hashTag + "}:" + topic`, where the hash tag is
 * the run id for a run topic (the slot of the run's keys, so the cache's append script can publish
 * there) and the topic otherwise. Each message goes to the one shard that serves its slot, not to
 * every node as PUBLISH would. ioredis keeps one subscriber connection per master serving a
 * subscribed channel and subscribes again after a failover or a slot move; the heartbeat applies
 * to single-server connections only.
 *
 * @example
 * const pubsub = new RedisPubSub({ url: process.env.REDIS_URL });
 * await pubsub.subscribe("agent.stream.run-1", (event) => console.log(event.type, event.data));
 * await pubsub.publish("agent.stream.run-1", { type: "chunk", runId: "run-1", data: { text: "hi" } });
 * await pubsub.close();
 */
export class RedisPubSub extends PubSub implements CacheNotifiedPubSub {
  /**
   * What this PubSub guarantees, declared: events of one topic arrive in publish order, any process
   * on the same Redis receives them, and nothing is kept for replay.
   */
  readonly capabilities: { readonly ordered: true; readonly replay: false; readonly crossProcess: true } =
    Object.freeze({ ordered: true, replay: false, crossProcess: true });

  readonly #options: ResolvedRedisPubSubOptions;
  readonly #publisher: Redis | Cluster;
  readonly #sharded: boolean;
  readonly #ownsPublisher: boolean;
  readonly #subscriptions: Subscriptions;
  /** One promise per publish not yet settled for its caller; each never rejects. */
  readonly #inFlight = new Set<Promise<void>>();
  /** Publishes the publisher connection still holds, including those whose caller timed out already. */
  #heldPublishes = 0;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: RedisPubSubOptions) {
    super();
    this.#options = resolveRedisPubSubOptions(options);
    const { client, url, clusterNodes, redisOptions, logger, publishTimeoutMs, heartbeatMs } = this.#options;
    if (client !== undefined) {
      this.#publisher = client;
      this.#ownsPublisher = false;
    } else {
      this.#publisher =
        clusterNodes === undefined
          ? createConnection(url as string, redisOptions)
          : createClusterConnection(clusterNodes, redisOptions);
      this.#ownsPublisher = true;
      reportConnectionErrors(this.#publisher, "publisher", logger, packageName);
    }
    this.#sharded = isCluster(this.#publisher);
    this.#subscriptions = new Subscriptions({
      connect: () => duplicateForSubscriptions(this.#publisher),
      sharded: this.#sharded,
      timeoutMs: publishTimeoutMs,
      heartbeatMs,
      logger,
      packageName,
    });
  }

  /** Events are pushed to subscribers as they arrive; there is no read loop to drive. */
  override get supportedModes(): ReadonlyArray<PubSubDeliveryMode> {
    return ["push"];
  }

  /**
   * Publishes an event on the topic's channel: the event as JSON with a new `id` and `createdAt`
   * (a given `index` and other fields are kept). Resolves once Redis acknowledged the PUBLISH.
   * Rejects with `INVALID_ID` for a bad topic (nothing is sent), `INVALID_MESSAGE` for data that is
   * not JSON, `LIMIT_EXCEEDED` at once when `maxPendingPublishes` publishes are waiting for Redis,
   * and `TRANSPORT_CLOSED` after `close()`, when the connection failed, or when Redis has not
   * acknowledged within `publishTimeoutMs`. A publish that timed out may still be delivered
   * later: ioredis keeps it queued until it reconnects or gives up. Redis's own errors (such as
   * NOPERM) reject unchanged. `options.localOnly` is ignored: every publish goes through Redis.
   */
  override async publish(
    topic: string,
    event: Omit<Event, "id" | "createdAt">,
    _options?: { localOnly?: boolean },
  ): Promise<void> {
    this.#assertOpen();
    const channel = this.#channelFor(topic);
    const message = encodeEvent(event, packageName);
    const { maxPendingPublishes, publishTimeoutMs } = this.#options;
    if (this.#heldPublishes >= maxPendingPublishes) {
      throw new MastraInngestError(
        `[${packageName}] publish to topic ${describeValue(topic)} refused: ${this.#heldPublishes} publishes are ` +
          `already waiting for Redis (maxPendingPublishes ${maxPendingPublishes})`,
        { code: ErrorCode.LIMIT_EXCEEDED },
      );
    }
    this.#heldPublishes++;
    const command = this.#sharded
      ? this.#publisher.spublish(channel, message)
      : this.#publisher.publish(channel, message);
    const released = (): void => {
      this.#heldPublishes--;
    };
    command.then(released, released);
    const acknowledged = settleWithin(command, {
      timeoutMs: publishTimeoutMs,
      action: "publish to",
      topic,
      packageName,
    });
    const settled = acknowledged.then(
      () => {},
      () => {},
    );
    this.#inFlight.add(settled);
    void settled.then(() => this.#inFlight.delete(settled));
    await acknowledged;
  }

  /**
   * Calls `callback(event, ack, nack)` for every event published on the topic from now on (ack and
   * nack do nothing: pub/sub keeps nothing to acknowledge; a callback added twice is called once).
   * Resolves once Redis confirmed the SUBSCRIBE, which for a topic subscribed already is as soon
   * as its first confirmation. A callback that throws or rejects is reported to the logger. Rejects
   * with `INVALID_ID` for a bad topic, `INVALID_OPTION` for `options.group` (Redis pub/sub delivers
   * every message to every subscriber), Redis's own error (such as NOPERM) unchanged, and
   * `TRANSPORT_CLOSED` as `publish()` does. `startFrom` and `batch` are ignored: delivery is live.
   */
  override async subscribe(topic: string, callback: EventCallback, options?: SubscribeOptions): Promise<void> {
    this.#assertOpen();
    const channel = this.#channelFor(topic);
    if (typeof callback !== "function") {
      throw this.#invalidOption("callback", "a function", callback);
    }
    if (options?.group !== undefined) {
      throw this.#invalidOption(
        "group",
        "absent (Redis pub/sub delivers every message to every subscriber)",
        options.group,
      );
    }
    await this.#subscriptions.add(channel, topic, callback);
  }

  /**
   * Stops delivery to `callback` at once; when it was the topic's last callback, sends UNSUBSCRIBE
   * and resolves once Redis confirmed it (a failure to confirm is logged, not thrown: no event
   * reaches the callback either way). A callback that was never subscribed resolves.
   */
  override async unsubscribe(topic: string, callback: EventCallback): Promise<void> {
    await this.#subscriptions.remove(this.#channelFor(topic), topic, callback);
  }

  /** Resolves when every publish issued so far has settled, acknowledged or rejected. Never rejects. */
  override async flush(): Promise<void> {
    await Promise.all([...this.#inFlight]);
  }

  /** Does nothing: Redis pub/sub keeps nothing per topic. */
  override async clearTopic(_topic: string): Promise<void> {
    // Nothing is retained here; a stream cache above clears its own history.
  }

  /**
   * The channel on which a Redis cache can announce a topic's stored batches for this PubSub, in the
   * same operation that stores them: `channelPrefix + topic` when `cache` has a string
   * `redisServerIdentity` equal to this publisher's (same server and database, both computed with
   * `redisServerIdentity` of `@mastra/inngest-core`), else `undefined`. Throws `INVALID_ID` for a bad topic.
   */
  notificationChannel(topic: string, cache: MastraServerCache): string | undefined {
    const channel = this.#channelFor(topic);
    const identity = (cache as { redisServerIdentity?: unknown } | null)?.redisServerIdentity;
    return typeof identity === "string" && identity === redisServerIdentity(this.#publisher as RedisClientLike)
      ? channel
      : undefined;
  }

  /**
   * Waits for publishes in flight (each bounded by `publishTimeoutMs`), stops the heartbeat, quits
   * the subscriber connection, and quits the publisher connection when it was created from `url`
   * (a `client` stays open: it is yours). Then `publish()` and `subscribe()` reject with
   * `TRANSPORT_CLOSED`. Safe to call twice; the second call waits for the first.
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  protected override onUnsupportedOffset(offset: number): void {
    this.#options.logger.warn(
      `[${packageName}] Redis pub/sub keeps no history: the subscription starts with live events, not at offset ${offset}`,
    );
  }

  async #shutDown(): Promise<void> {
    await this.flush();
    const closing = [this.#subscriptions.close()];
    if (this.#ownsPublisher) {
      closing.push(closeConnection(this.#publisher, this.#options.publishTimeoutMs));
    }
    await Promise.all(closing);
  }

  #channelFor(topic: string): string {
    const valid = assertValidTopic(topic, "topic", packageName);
    if (!this.#sharded) {
      return this.#options.channelPrefix + valid;
    }
    // In the slot of the run's keys, as createKeyLayout places them.
    return `${this.#options.channelPrefix}{${parseRunTopic(valid)?.runId ?? valid}}:${valid}`;
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new MastraInngestError(`[${packageName}] this RedisPubSub is closed`, { code: ErrorCode.TRANSPORT_CLOSED });
    }
  }

  #invalidOption(field: string, expected: string, value: unknown): MastraInngestError {
    return invalidOptionError(packageName, field, expected, value);
  }
}
