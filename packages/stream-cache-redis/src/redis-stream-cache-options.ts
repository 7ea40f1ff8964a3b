import type { Cluster, ClusterNode, Redis, RedisOptions } from "ioredis";

/**
 * Options of `RedisStreamCache`: a `client` you own (one server or a Redis Cluster), or a `url` or
 * `clusterNodes` it connects to and owns.
 */
export type RedisStreamCacheOptions = (
  | {
      /**
       * Your ioredis client: a `Redis` connection or a `Cluster`. The cache never connects or quits
       * it: you own it.
       */
      client: Redis | Cluster;
      url?: never;
      clusterNodes?: never;
    }
  | {
      /** A `redis://` or `rediss://` URL (any case; `rediss` means TLS). The cache owns this connection and quits it on `close()`. */
      url: string;
      client?: never;
      clusterNodes?: never;
    }
  | {
      /**
       * Startup nodes of a Redis Cluster (`[{ host, port }]`), as ioredis `new Cluster(nodes)` takes
       * them. The cache owns this `Cluster` and quits it on `close()`.
       */
      clusterNodes: ClusterNode[];
      client?: never;
      url?: never;
    }
) & {
  /**
   * Extra ioredis options for the connection the cache opens from `url` or, for `clusterNodes`, for
   * each node's connection (TLS, username, password).
   */
  redisOptions?: RedisOptions;
  /**
   * Prefix of every key, joined to it with `:` (`"myapp"` stores `foo` as `myapp:foo`), as
   * `createKeyLayout` of `@mastra/inngest-core` joins its prefix. A prefix that already ends with
   * `:` gets no second one (`"myapp:"` also stores `myapp:foo`). 1 to 64 characters of letters,
   * digits and `_ . : -`, starting with a letter or digit; no braces (they would change the Cluster
   * hash tag). Required for `clear()`, which deletes only keys under `<keyPrefix>:`.
   * @default "" (keys are stored as they are)
   */
  keyPrefix?: string;
  /**
   * Time to live of keys written without their own TTL (`set` without `ttlMs`, `listPush`,
   * `increment`), in seconds. Appends carry their own TTL.
   * @default 86400 (24 hours)
   */
  ttlSeconds?: number;
  /**
   * Largest value written, as JSON bytes; larger ones are refused with `PAYLOAD_TOO_LARGE` before
   * anything is sent.
   * @default 1048576 (1 MiB)
   */
  maxEventBytes?: number;
  /**
   * How long a command may wait for Redis (while it is down, ioredis queues commands), in
   * milliseconds; past it the call rejects with `TRANSPORT_CLOSED`, so a caller never hangs.
   * @default 5000
   */
  commandTimeoutMs?: number;
  /**
   * Entries read per LRANGE when a range is read, so one read never asks Redis for a huge reply.
   * @default 1000
   */
  readPageSize?: number;
  /**
   * Replicas that must have an append before it counts as stored: after the append script, the
   * cache sends `WAIT <n> <replicaTimeoutMs>` on the same connection, and an append fewer replicas
   * acknowledged rejects with `TRANSPORT_CLOSED` (the stream cache tries it again; a retry of
   * stored events only finds them stored). With 1 and one replica per master, a failover loses no
   * acknowledged event; without it, events acknowledged in the last moments before a master dies
   * can be lost, and the cache then stores an `events-lost` notice at each lost index.
   * @default 0 (do not wait)
   */
  waitForReplicas?: number;
  /**
   * How long `WAIT` waits for `waitForReplicas` replicas, in milliseconds.
   * @default 1000
   */
  replicaTimeoutMs?: number;
};
