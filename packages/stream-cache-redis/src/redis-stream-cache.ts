import { MastraServerCache } from "@mastra/core/cache";
import {
  assertValidKeyPrefix,
  ErrorCode,
  type IndexedAppendCache,
  type IndexedAppendOutcome,
  type IndexedAppendRequest,
  invalidOption as invalidOptionError,
  MastraInngestError,
  normalizeRedisUrl,
  type RedisClientLike,
  redisServerIdentity,
  type StreamCacheCapabilities,
} from "@mastra/inngest-core";
import { Cluster, type ClusterNode, Redis } from "ioredis";
import { AcknowledgedIndices } from "./internal/acknowledged-indices.ts";
import { type AppendReply, appendArguments, appendOutcomes } from "./internal/append-request.ts";
import {
  appendScript,
  pushIndexedByLengthScript,
  pushIndexedScript,
  raiseCounterScript,
} from "./internal/append-script.ts";
import { groupByHashTag, isCluster, keyHolders } from "./internal/cluster.ts";
import { appendAndWait } from "./internal/replicated-append.ts";
import type { RedisStreamCacheOptions } from "./redis-stream-cache-options.ts";

const packageName = "@mastra/inngest-stream-cache-redis";

/** The commands this cache defines on its connection; prefixed so they cannot clash with a user's. */
interface ScriptCommands {
  mastraInngestAppend(...keysAndArguments: Array<string | number>): Promise<AppendReply>;
  mastraInngestPushIndexed(...keysAndArguments: Array<string | number>): Promise<number>;
  mastraInngestPushIndexedByLength(...keysAndArguments: Array<string | number>): Promise<number>;
  mastraInngestRaiseCounter(...keysAndArguments: Array<string | number>): Promise<number>;
}

/** What joins `keyPrefix` and a key, as in `createKeyLayout` of `@mastra/inngest-core`. */
const keySeparator = ":";

/**
 * A `MastraServerCache` on Redis, shared across processes, with the stream capabilities of
 * `@mastra/inngest-core`: `appendIndexed` stores a batch of events in **one** round trip (a Lua
 * script called by its SHA, reloaded on `NOSCRIPT`) that allocates the indices, stores the events,
 * records their keys so a resent command returns the original indices, orders attempts, refreshes
 * the TTLs and, paired with `RedisPubSub` on the same server, publishes the batch too. A `keyPrefix`
 * is joined to each key with `:`, like every prefix of the project: `myapp` and `foo` make `myapp:foo`.
 *
 * On Redis Cluster (an ioredis `Cluster` as `client`, or `clusterNodes`), every key of a run carries
 * the run id as hash tag, so the script and every multi-key command stay in the run's slot, and the
 * script publishes with SPUBLISH on a channel in that slot. An append remembers the indices it got
 * acknowledged; when a failover lost some of them, the next append stores an `events-lost` notice
 * at each lost index and counts them (`lostEventCount`); `waitForReplicas` avoids the loss.
 *
 * @example
 * const cache = new RedisStreamCache({ url: "redis://127.0.0.1:6379", keyPrefix: "myapp" });
 * const pubsub = new CachingPubSub(new RedisPubSub({ url: "redis://127.0.0.1:6379" }), cache);
 */
export class RedisStreamCache extends MastraServerCache implements IndexedAppendCache {
  /** Shared across processes; atomic indexed appends; can publish what it stores. */
  readonly streamCacheCapabilities: StreamCacheCapabilities = Object.freeze({
    crossProcess: true,
    indexedAppend: true,
    notifies: true,
  });
  /** Which server and database this cache talks to, so a `RedisPubSub` on the same one can pair with it. */
  readonly redisServerIdentity: string;
  readonly #client: (Redis | Cluster) & ScriptCommands;
  readonly #ownsClient: boolean;
  /** `keyPrefix` with its separator, or `""` without a prefix. */
  readonly #keyPrefix: string;
  readonly #ttlMs: number;
  readonly #maxEventBytes: number;
  readonly #readPageSize: number;
  readonly #commandTimeoutMs: number;
  readonly #waitForReplicas: number;
  readonly #replicaTimeoutMs: number;
  readonly #acknowledged = new AcknowledgedIndices();
  #lostEventCount = 0;

  /** The time to live of keys written without one of their own, in milliseconds (`ttlSeconds`). */
  get defaultTtlMs(): number {
    return this.#ttlMs;
  }

  /**
   * Events this cache had acknowledged and later found gone from Redis (each now an `events-lost`
   * notice at its index), since it was created.
   */
  get lostEventCount(): number {
    return this.#lostEventCount;
  }

  constructor(options: RedisStreamCacheOptions) {
    super({ name: "RedisStreamCache" });
    if (options.client === undefined && options.url === undefined && options.clusterNodes === undefined) {
      throw invalidOption(
        "client, url or clusterNodes",
        "an ioredis client or Cluster, a redis:// URL, or a list of cluster nodes",
        undefined,
      );
    }
    const keyPrefix = options.keyPrefix ?? "";
    this.#keyPrefix = keyPrefix === "" ? "" : withSeparator(assertValidKeyPrefix(keyPrefix, packageName));
    this.#ttlMs = positiveInteger("ttlSeconds", options.ttlSeconds ?? 86_400) * 1000;
    this.#maxEventBytes = positiveInteger("maxEventBytes", options.maxEventBytes ?? 1_048_576);
    this.#readPageSize = positiveInteger("readPageSize", options.readPageSize ?? 1000);
    this.#commandTimeoutMs = positiveInteger("commandTimeoutMs", options.commandTimeoutMs ?? 5000);
    this.#waitForReplicas = nonNegativeInteger("waitForReplicas", options.waitForReplicas ?? 0);
    this.#replicaTimeoutMs = positiveInteger("replicaTimeoutMs", options.replicaTimeoutMs ?? 1000);
    this.#ownsClient = options.client === undefined;
    let client = options.client;
    if (client === undefined) {
      client =
        options.clusterNodes === undefined
          ? new Redis(normalizeRedisUrl(options.url, "url", packageName), { ...options.redisOptions })
          : new Cluster(clusterNodeList(options.clusterNodes), { redisOptions: { ...options.redisOptions } });
      // Connection errors reach callers through the commands that fail; without a listener,
      // ioredis would also print each reconnect attempt.
      client.on("error", () => {});
    }
    client.defineCommand("mastraInngestAppend", { numberOfKeys: 4, lua: appendScript });
    client.defineCommand("mastraInngestPushIndexed", { numberOfKeys: 2, lua: pushIndexedScript });
    client.defineCommand("mastraInngestPushIndexedByLength", { numberOfKeys: 1, lua: pushIndexedByLengthScript });
    client.defineCommand("mastraInngestRaiseCounter", { numberOfKeys: 1, lua: raiseCounterScript });
    this.#client = client as (Redis | Cluster) & ScriptCommands;
    this.redisServerIdentity = redisServerIdentity(client as RedisClientLike);
  }

  async get(key: string): Promise<unknown> {
    const text = await this.#timed("a read", this.#client.get(this.#key(key)));
    return text === null ? undefined : JSON.parse(text);
  }

  async set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    await this.#timed("a write", this.#client.set(this.#key(key), this.#encode(value), "PX", ttlMs ?? this.#ttlMs));
  }

  async listLength(key: string): Promise<number> {
    return await this.#timed("a read", this.#client.llen(this.#key(key)));
  }

  async listPush(key: string, value: unknown): Promise<void> {
    const prefixed = this.#key(key);
    await this.#timed(
      "a push",
      this.#client.multi().rpush(prefixed, this.#encode(value)).pexpire(prefixed, this.#ttlMs).exec(),
    );
  }

  /** LRANGE semantics (inclusive `to`, negative from the end), read in pages of `readPageSize`. */
  async listFromTo(key: string, from: number, to = -1): Promise<unknown[]> {
    const prefixed = this.#key(key);
    let start = from;
    let end = to;
    if (start < 0 || end < 0) {
      const length = await this.#timed("a read", this.#client.llen(prefixed));
      start = start < 0 ? Math.max(length + start, 0) : start;
      end = end < 0 ? length + end : end;
    }
    const values: unknown[] = [];
    for (let pageStart = start; pageStart <= end; pageStart += this.#readPageSize) {
      const pageEnd = Math.min(pageStart + this.#readPageSize - 1, end);
      const page = await this.#timed("a read", this.#client.lrange(prefixed, pageStart, pageEnd));
      for (const text of page) {
        values.push(JSON.parse(text));
      }
      if (page.length < pageEnd - pageStart + 1) {
        break;
      }
    }
    return values;
  }

  async delete(key: string): Promise<void> {
    this.#acknowledged.forget(this.#key(key));
    await this.#timed("a delete", this.#client.del(this.#key(key)));
  }

  /** Deletes every key under `keyPrefix` and its `:`, found with SCAN; refuses to run without a prefix. */
  async clear(): Promise<void> {
    if (this.#keyPrefix === "") {
      throw new MastraInngestError(
        `[${packageName}] clear() needs a keyPrefix, so that it deletes only this cache's keys and not the whole database`,
        { code: ErrorCode.INVALID_OPTION },
      );
    }
    const pattern = `${this.#keyPrefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
    this.#acknowledged.clear();
    for (const holder of keyHolders(this.#client)) {
      let cursor = "0";
      do {
        const [next, keys] = await this.#timed("a scan", holder.scan(cursor, "MATCH", pattern, "COUNT", 1000));
        cursor = next;
        // On a cluster one UNLINK may name keys of one slot only.
        for (const group of isCluster(this.#client) ? groupByHashTag(keys) : keys.length > 0 ? [keys] : []) {
          await this.#timed("a delete", this.#client.unlink(...group));
        }
      } while (cursor !== "0");
    }
  }

  async increment(key: string): Promise<number> {
    const prefixed = this.#key(key);
    const results = await this.#timed(
      "an increment",
      this.#client.multi().incr(prefixed).pexpire(prefixed, this.#ttlMs).exec(),
    );
    const [error, value] = results?.[0] ?? [new Error("empty transaction reply"), undefined];
    if (error !== null) {
      throw error;
    }
    return value as number;
  }

  override async listPushIndexed(listKey: string, counterKey: string, value: Record<string, unknown>): Promise<number> {
    const { index: _index, ...rest } = value;
    const [list, counter] = [this.#key(listKey), this.#key(counterKey)];
    if (isCluster(this.#client) && groupByHashTag([list, counter]).length > 1) {
      const index = await this.#timed(
        "an indexed push",
        this.#client.mastraInngestPushIndexedByLength(list, this.#encode(rest), this.#ttlMs),
      );
      await this.#timed("an indexed push", this.#client.mastraInngestRaiseCounter(counter, index + 1, this.#ttlMs));
      return index;
    }
    return await this.#timed(
      "an indexed push",
      this.#client.mastraInngestPushIndexed(list, counter, this.#encode(rest), this.#ttlMs),
    );
  }

  async appendIndexed(request: IndexedAppendRequest): Promise<IndexedAppendOutcome[]> {
    const ttlMs = request.ttlMs ?? this.#ttlMs;
    const counterKey = this.#key(request.counterKey);
    const argumentsList = appendArguments(request, {
      ttlMs,
      publishCommand: isCluster(this.#client) ? "SPUBLISH" : "PUBLISH",
      expectedNext: this.#acknowledged.expectedNext(counterKey),
      encode: (value) => this.#encode(value),
    });
    const keys = [request.listKey, request.counterKey, request.producersKey, request.attemptsKey].map((key) =>
      this.#key(key),
    );
    const [[firstLostIndex, lastLostIndex], ...results] = await this.#timed(
      "an append",
      this.#append([...keys, ...argumentsList]),
    );
    if (firstLostIndex >= 0) {
      this.#lostEventCount += lastLostIndex - firstLostIndex + 1;
    }
    this.#acknowledged.acknowledge(
      counterKey,
      results.flatMap(([status, index, markerIndex]) => (status <= 1 ? [index, markerIndex] : [])),
      ttlMs,
    );
    return appendOutcomes(request, results);
  }

  /** Sets the keys' time to live to exactly `ttlMs` from now, shorter or longer than it was (`PEXPIRE`). */
  async expire(keys: readonly string[], ttlMs: number): Promise<void> {
    await this.#expireAll("an expire", keys, ttlMs, false);
  }

  /** Keeps the keys at least `ttlMs` from now, never shortening a longer TTL (`PEXPIRE ... GT`). */
  async retain(keys: readonly string[], ttlMs: number): Promise<void> {
    await this.#expireAll("a retain", keys, ttlMs, true);
  }

  /** Quits the connection when the cache opened it from a `url`; a `client` you passed is left open. */
  async close(): Promise<void> {
    if (this.#ownsClient && this.#client.status !== "end") {
      await this.#client.quit().catch(() => this.#client.disconnect());
    }
  }

  /** One MULTI of PEXPIREs per slot (a cluster's MULTI stays in one slot; one server takes them all at once). */
  async #expireAll(what: string, keys: readonly string[], ttlMs: number, neverShorten: boolean): Promise<void> {
    const prefixed = keys.map((key) => this.#key(key));
    if (!neverShorten) {
      // A shortened TTL may end the topic before the time this process remembered for it.
      for (const key of prefixed) {
        this.#acknowledged.forget(key);
      }
    }
    const groups = isCluster(this.#client) ? groupByHashTag(prefixed) : [prefixed];
    await this.#timed(
      what,
      Promise.all(
        groups.map((group) => {
          const transaction = this.#client.multi();
          for (const key of group) {
            if (neverShorten) {
              transaction.pexpire(key, ttlMs, "GT");
            } else {
              transaction.pexpire(key, ttlMs);
            }
          }
          return transaction.exec();
        }),
      ),
    );
  }

  /** Runs the append script; with `waitForReplicas`, followed by `WAIT` on the same node. */
  async #append(keysAndArguments: Array<string | number>): Promise<AppendReply> {
    if (this.#waitForReplicas === 0) {
      return await this.#client.mastraInngestAppend(...keysAndArguments);
    }
    return await appendAndWait(this.#client, keysAndArguments, {
      replicas: this.#waitForReplicas,
      timeoutMs: this.#replicaTimeoutMs,
      packageName,
    });
  }

  /** Rejects with `TRANSPORT_CLOSED` when Redis has not answered within `commandTimeoutMs`. */
  async #timed<Value>(what: string, command: Promise<Value>): Promise<Value> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new MastraInngestError(
              `[${packageName}] Redis did not answer ${what} within ${this.#commandTimeoutMs} ms (commandTimeoutMs)`,
              { code: ErrorCode.TRANSPORT_CLOSED },
            ),
          ),
        this.#commandTimeoutMs,
      );
    });
    try {
      return await Promise.race([command, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #key(key: string): string {
    return this.#keyPrefix + key;
  }

  #encode(value: unknown): string {
    const text = JSON.stringify(value ?? null);
    const size = Buffer.byteLength(text);
    if (size > this.#maxEventBytes) {
      throw new MastraInngestError(
        `[${packageName}] a value of ${size} bytes is larger than maxEventBytes (${this.#maxEventBytes})`,
        { code: ErrorCode.PAYLOAD_TOO_LARGE },
      );
    }
    return text;
  }
}

/**
 * The prefix followed by `:`. A prefix that already ends with `:` (as `"myapp:"` did when the caller
 * had to add the separator) keeps its keys where they were instead of gaining a second one.
 */
function withSeparator(keyPrefix: string): string {
  return keyPrefix.endsWith(keySeparator) ? keyPrefix : `${keyPrefix}${keySeparator}`;
}

function nonNegativeInteger(field: string, value: unknown): number {
  if (Number.isSafeInteger(value) && (value as number) >= 0) {
    return value as number;
  }
  throw invalidOption(field, "a non-negative integer", value);
}

/** Copies the node list, so the caller's array is not shared with the `Cluster`. */
function clusterNodeList(nodes: unknown): ClusterNode[] {
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw invalidOption("clusterNodes", "a non-empty array of { host, port } startup nodes", nodes);
  }
  return [...nodes] as ClusterNode[];
}

function positiveInteger(field: string, value: unknown): number {
  if (Number.isSafeInteger(value) && (value as number) > 0) {
    return value as number;
  }
  throw invalidOption(field, "a positive integer", value);
}

function invalidOption(field: string, expected: string, value: unknown): MastraInngestError {
  return invalidOptionError(packageName, field, expected, value);
}
