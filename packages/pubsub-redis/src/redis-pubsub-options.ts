import {
  invalidOption as invalidOptionError,
  KEY_PREFIX_PATTERN,
  type MastraInngestError,
  normalizeRedisUrl,
} from "@mastra/inngest-core";
import type { Cluster, ClusterNode, Redis, RedisOptions } from "ioredis";

/** The package name that starts every message this package throws or logs. */
export const packageName = "@mastra/inngest-pubsub-redis";

/** Where `RedisPubSub` reports what happens outside any caller's call. */
export interface RedisPubSubLogger {
  /** A dropped message, a throwing subscriber, a lost or unresponsive connection. */
  warn(message: string, ...details: unknown[]): void;
}

/**
 * Options of `RedisPubSub`. Give exactly one of `client`, `url` and `clusterNodes`. Durations are
 * in milliseconds.
 */
export interface RedisPubSubOptions {
  /**
   * Your ioredis connection, used for PUBLISH, or your ioredis `Cluster`, used for SPUBLISH. It
   * stays yours: `close()` never quits it. Subscriptions run on one duplicate of it
   * (`client.duplicate()`; for a cluster, with `shardedSubscribers`), which `RedisPubSub` owns and quits.
   */
  client?: Redis | Cluster;
  /**
   * A `redis://` or `rediss://` URL (scheme in any case; `rediss` always means TLS). `RedisPubSub`
   * creates two connections from it, one to publish and one to subscribe, connects them on first
   * use and quits both in `close()`.
   */
  url?: string;
  /**
   * Startup nodes of a Redis Cluster (`[{ host, port }]`), as ioredis `new Cluster(nodes)` takes
   * them. `RedisPubSub` creates a `Cluster` from them to publish and a duplicate to subscribe,
   * and quits both in `close()`.
   */
  clusterNodes?: ClusterNode[];
  /**
   * ioredis options for the connections created from `url` (or each node's, for `clusterNodes`), such as `tls`, `username` and
   * `password` (for an ACL user) or `retryStrategy`. Values in the URL take precedence. Only with `url`.
   * @default {}
   */
  redisOptions?: RedisOptions;
  /**
   * Prefix of every channel: a topic's channel is `channelPrefix + topic`. 1 to 64 characters of
   * letters, digits and `_ . : -`, starting with a letter or digit; include the separator. Give
   * each deployment sharing a Redis its own prefix, and grant an ACL user `&<prefix>*`.
   * @default "mastra:inngest:"
   */
  channelPrefix?: string;
  /**
   * How long `publish()` (and `subscribe()`) wait for Redis to acknowledge the command before they
   * reject with `TRANSPORT_CLOSED`, in milliseconds. Bounds every wait while Redis is unreachable.
   * @default 5000
   */
  publishTimeoutMs?: number;
  /**
   * Most publishes held by the connection at once, waiting to be sent or acknowledged. Past it,
   * `publish()` rejects at once with `LIMIT_EXCEEDED`, so memory stays bounded while Redis is
   * down (ioredis's own offline queue has no limit).
   * @default 10000
   */
  maxPendingPublishes?: number;
  /**
   * Interval of the PING the subscriber connection sends, in milliseconds. A connection that
   * receives nothing for a whole interval while a PING (or its handshake) waits for an answer is
   * taken as half-open and dropped, so ioredis reconnects and subscribes again: a dead connection
   * is found within two intervals. Keep it above the round-trip time to Redis.
   * @default 5000
   */
  heartbeatMs?: number;
  /**
   * Receives what happens outside any call: a message that is not an event, a subscriber that
   * throws, a lost or unresponsive connection.
   * @default console
   */
  logger?: RedisPubSubLogger;
}

/** The options with every default applied and every value checked. */
export interface ResolvedRedisPubSubOptions {
  /** Exactly one of `client`, `url` and `clusterNodes` is set. */
  client: Redis | Cluster | undefined;
  /** The URL with its scheme lowercased. */
  url: string | undefined;
  clusterNodes: ClusterNode[] | undefined;
  redisOptions: RedisOptions;
  channelPrefix: string;
  publishTimeoutMs: number;
  maxPendingPublishes: number;
  heartbeatMs: number;
  logger: RedisPubSubLogger;
}

/** The channel prefix used when none is configured. */
export const DEFAULT_CHANNEL_PREFIX = "mastra:inngest:";

/** Applies defaults and rejects missing, conflicting or out-of-range values with `INVALID_OPTION`, naming the field. */
export function resolveRedisPubSubOptions(options: RedisPubSubOptions): ResolvedRedisPubSubOptions {
  if (typeof options !== "object" || options === null) {
    throw invalid("options", "an object with `client` or `url`", options);
  }
  const { client, url, clusterNodes, redisOptions } = options;
  if (client === undefined && url === undefined && clusterNodes === undefined) {
    throw invalid(
      "client",
      "an ioredis connection or Cluster, or url a redis:// URL, or clusterNodes a node list (one of them is required)",
      client,
    );
  }
  if (client !== undefined && url !== undefined) {
    throw invalid("url", "absent when client is given (give one of them)", url);
  }
  if (clusterNodes !== undefined && (client !== undefined || url !== undefined)) {
    throw invalid("clusterNodes", "absent when client or url is given (give one of them)", clusterNodes);
  }
  if (clusterNodes !== undefined && (!Array.isArray(clusterNodes) || clusterNodes.length === 0)) {
    throw invalid("clusterNodes", "a non-empty array of { host, port } startup nodes", clusterNodes);
  }
  if (client !== undefined && !isRedisClient(client)) {
    throw invalid("client", "an ioredis Redis connection or Cluster", client);
  }
  if (client !== undefined && redisOptions !== undefined) {
    throw invalid(
      "redisOptions",
      "absent when client is given (it applies to connections created from url or clusterNodes)",
      redisOptions,
    );
  }
  if (redisOptions !== undefined && (typeof redisOptions !== "object" || redisOptions === null)) {
    throw invalid("redisOptions", "an object of ioredis options", redisOptions);
  }
  const channelPrefix = options.channelPrefix ?? DEFAULT_CHANNEL_PREFIX;
  if (typeof channelPrefix !== "string" || !KEY_PREFIX_PATTERN.test(channelPrefix)) {
    throw invalid(
      "channelPrefix",
      `a string matching ${KEY_PREFIX_PATTERN.source} (1-64 characters of letters, digits, '_', '.', ':' or '-', no braces)`,
      channelPrefix,
    );
  }
  return {
    client,
    url: url === undefined ? undefined : normalizeRedisUrl(url, "url", packageName),
    clusterNodes: clusterNodes === undefined ? undefined : [...clusterNodes],
    redisOptions: redisOptions ?? {},
    channelPrefix,
    publishTimeoutMs: positiveInteger("publishTimeoutMs", options.publishTimeoutMs ?? 5000),
    maxPendingPublishes: positiveInteger("maxPendingPublishes", options.maxPendingPublishes ?? 10_000),
    heartbeatMs: positiveInteger("heartbeatMs", options.heartbeatMs ?? 5000),
    logger: resolveLogger(options.logger),
  };
}

function isRedisClient(value: unknown): value is Redis | Cluster {
  const candidate = value as Partial<Redis> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.publish === "function" &&
    typeof candidate.duplicate === "function" &&
    typeof candidate.options === "object"
  );
}

function resolveLogger(logger: unknown): RedisPubSubLogger {
  if (logger === undefined) {
    return console;
  }
  if (typeof (logger as Partial<RedisPubSubLogger> | null)?.warn !== "function") {
    throw invalid("logger", "an object with a warn(message, ...details) method", logger);
  }
  return logger as RedisPubSubLogger;
}

function positiveInteger(field: string, value: unknown): number {
  if (Number.isSafeInteger(value) && (value as number) > 0) {
    return value as number;
  }
  throw invalid(field, "a positive integer", value);
}

function invalid(field: string, expected: string, value: unknown): MastraInngestError {
  return invalidOptionError(packageName, field, expected, value);
}
