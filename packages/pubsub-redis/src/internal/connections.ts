import { Cluster, type ClusterNode, Redis, type RedisOptions } from "ioredis";
import type { RedisPubSubLogger } from "../redis-pubsub-options.ts";

/**
 * Creates a connection from a URL whose scheme is already lowercased, so ioredis turns TLS on for
 * `rediss://`. It connects on its first command: an instance that is never used opens nothing.
 */
export function createConnection(url: string, redisOptions: RedisOptions): Redis {
  return new Redis(url, { ...redisOptions, lazyConnect: true });
}

/** A Redis Cluster client from startup nodes; it connects on its first command. */
export function createClusterConnection(nodes: ClusterNode[], redisOptions: RedisOptions): Cluster {
  return new Cluster(nodes, { lazyConnect: true, redisOptions });
}

/** Whether the client is an ioredis `Cluster` rather than one server's connection. */
export function isCluster(client: Redis | Cluster): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/**
 * The subscriber connection: a duplicate of the publisher, with the settings subscriptions rely
 * on whatever the publisher's are: resubscribe after a reconnect, and queue SUBSCRIBE while
 * connecting. A cluster's duplicate subscribes with sharded Pub/Sub, one connection per master
 * that serves a subscribed channel.
 */
export function duplicateForSubscriptions(publisher: Redis | Cluster): Redis | Cluster {
  if (isCluster(publisher)) {
    return publisher.duplicate([], { shardedSubscribers: true, enableOfflineQueue: true, lazyConnect: true });
  }
  return publisher.duplicate({ autoResubscribe: true, enableOfflineQueue: true, lazyConnect: true });
}

/**
 * Reports a connection's errors to the logger once per outage: ioredis emits one per reconnect
 * attempt, and without a listener prints each to stderr itself.
 */
export function reportConnectionErrors(
  connection: Redis | Cluster,
  role: string,
  logger: RedisPubSubLogger,
  packageName: string,
): void {
  let reported = false;
  connection.on("error", (error: unknown) => {
    if (!reported) {
      reported = true;
      logger.warn(`[${packageName}] the ${role} connection to Redis failed; ioredis keeps reconnecting`, error);
    }
  });
  connection.on("ready", () => {
    reported = false;
  });
}

/**
 * Closes a connection this package owns: QUIT when it is up, so replies in flight arrive, bounded by
 * `timeoutMs`; then a hard disconnect, which also ends reconnect attempts and rejects queued commands.
 */
export async function closeConnection(connection: Redis | Cluster, timeoutMs: number): Promise<void> {
  if (connection.status === "ready") {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      connection.quit().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }
  connection.disconnect();
}

/**
 * Whether an error is a reply from Redis (such as NOPERM from an ACL or a wrong-type error) rather
 * than a failure of the connection. Checked by name: ioredis 5 and 6 both use redis-errors' class.
 */
export function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === "ReplyError";
}
