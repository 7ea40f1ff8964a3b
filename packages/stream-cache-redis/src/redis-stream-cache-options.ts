import type { Redis, RedisOptions } from "ioredis";

/** Options of `RedisStreamCache`: a `client` you own, or a `url` it connects to and owns. */
export type RedisStreamCacheOptions = (
  | {
      /** Your ioredis client. The cache never connects or quits it: you own it. */
      client: Redis;
      url?: never;
    }
  | {
      /** A `redis://` or `rediss://` URL (any case; `rediss` means TLS). The cache owns this connection and quits it on `close()`. */
      url: string;
      client?: never;
    }
) & {
  /** Extra ioredis options for the connection the cache opens from `url` (TLS, username, password). */
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
};
