import { randomUUID } from "node:crypto";
import { MastraServerCache } from "@mastra/core/cache";
import {
  assertValidKeyPrefix,
  createSupersededMarker,
  ErrorCode,
  EVENT_BATCH_KIND,
  type IndexedAppendCache,
  type IndexedAppendOutcome,
  type IndexedAppendRequest,
  invalidOption as invalidOptionError,
  MastraInngestError,
  normalizeRedisUrl,
  redisServerIdentity,
  type StreamCacheCapabilities,
  type StreamEventEnvelope,
} from "@mastra/inngest-core";
import { Redis } from "ioredis";
import { appendScript, pushIndexedScript } from "./internal/append-script.ts";
import type { RedisStreamCacheOptions } from "./redis-stream-cache-options.ts";

const packageName = "@mastra/inngest-stream-cache-redis";

/** The commands this cache defines on its connection; prefixed so they cannot clash with a user's. */
interface ScriptCommands {
  mastraInngestAppend(...keysAndArguments: Array<string | number>): Promise<Array<[number, number, number, number]>>;
  mastraInngestPushIndexed(...keysAndArguments: Array<string | number>): Promise<number>;
}

const statusNames = ["appended", "duplicate", "stale", "limit"] as const;

/** What joins `keyPrefix` and a key, as in `createKeyLayout` of `@mastra/inngest-core`. */
const keySeparator = ":";

/**
 * A `MastraServerCache` on Redis, shared across processes, with the stream capabilities of
 * `@mastra/inngest-core`: `appendIndexed` stores a batch of events in **one** round trip (a Lua
 * script called by its SHA, reloaded on `NOSCRIPT`) that allocates the indices, stores the events,
 * records their keys so a resent command returns the original indices, orders attempts, refreshes
 * the TTLs and, paired with `RedisPubSub` on the same server, publishes the batch too. Every key of
 * a run carries the run id as hash tag, so the script works on Redis Cluster. A `keyPrefix` is
 * joined to each key with `:`, like every prefix of the project: `myapp` and `foo` make `myapp:foo`.
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
  readonly #client: Redis & ScriptCommands;
  readonly #ownsClient: boolean;
  /** `keyPrefix` with its separator, or `""` without a prefix. */
  readonly #keyPrefix: string;
  readonly #ttlMs: number;
  readonly #maxEventBytes: number;
  readonly #readPageSize: number;
  readonly #commandTimeoutMs: number;

  /** The time to live of keys written without one of their own, in milliseconds (`ttlSeconds`). */
  get defaultTtlMs(): number {
    return this.#ttlMs;
  }

  constructor(options: RedisStreamCacheOptions) {
    super({ name: "RedisStreamCache" });
    if (options.client === undefined && options.url === undefined) {
      throw invalidOption("client or url", "an ioredis client or a redis:// URL", undefined);
    }
    const keyPrefix = options.keyPrefix ?? "";
    this.#keyPrefix = keyPrefix === "" ? "" : withSeparator(assertValidKeyPrefix(keyPrefix, packageName));
    this.#ttlMs = positiveInteger("ttlSeconds", options.ttlSeconds ?? 86_400) * 1000;
    this.#maxEventBytes = positiveInteger("maxEventBytes", options.maxEventBytes ?? 1_048_576);
    this.#readPageSize = positiveInteger("readPageSize", options.readPageSize ?? 1000);
    this.#commandTimeoutMs = positiveInteger("commandTimeoutMs", options.commandTimeoutMs ?? 5000);
    this.#ownsClient = options.client === undefined;
    let client = options.client;
    if (client === undefined) {
      client = new Redis(normalizeRedisUrl(options.url, "url", packageName), { ...options.redisOptions });
      // Connection errors reach callers through the commands that fail; without a listener,
      // ioredis would also print each reconnect attempt.
      client.on("error", () => {});
    }
    client.defineCommand("mastraInngestAppend", { numberOfKeys: 4, lua: appendScript });
    client.defineCommand("mastraInngestPushIndexed", { numberOfKeys: 2, lua: pushIndexedScript });
    this.#client = client as Redis & ScriptCommands;
    this.redisServerIdentity = redisServerIdentity(client);
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
    let cursor = "0";
    do {
      const [next, keys] = await this.#timed("a scan", this.#client.scan(cursor, "MATCH", pattern, "COUNT", 1000));
      cursor = next;
      if (keys.length > 0) {
        await this.#timed("a delete", this.#client.unlink(...keys));
      }
    } while (cursor !== "0");
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
    return await this.#timed(
      "an indexed push",
      this.#client.mastraInngestPushIndexed(this.#key(listKey), this.#key(counterKey), this.#encode(rest), this.#ttlMs),
    );
  }

  async appendIndexed(request: IndexedAppendRequest): Promise<IndexedAppendOutcome[]> {
    const argumentsList: Array<string | number> = [
      request.ttlMs ?? this.#ttlMs,
      request.maxEvents ?? -1,
      request.notifyChannel ?? "",
      request.notifyChannel === undefined ? "" : messageHead(request.entries[0]?.value),
      request.entries.length,
    ];
    const markerHeads = new Set<string>();
    for (const entry of request.entries) {
      const { index: _index, ...envelope } = entry.value;
      const producer = entry.producer;
      // Only the first event of an attempt in a batch can start a newer attempt; only it carries
      // the marker the script stores if it does.
      const markerKey = producer === undefined ? "" : `${producer.stepId}#${producer.attempt}`;
      const carriesMarker = producer !== undefined && !markerHeads.has(markerKey);
      if (carriesMarker) {
        markerHeads.add(markerKey);
      }
      const marker = carriesMarker ? markerHead(entry.value) : undefined;
      argumentsList.push(
        entry.key,
        this.#encode(envelope),
        producer?.stepId ?? "",
        producer?.attempt ?? -1,
        entry.exemptFromLimit === true ? "1" : "0",
        marker?.head ?? "",
        marker?.key ?? "",
      );
    }
    const keys = [request.listKey, request.counterKey, request.producersKey, request.attemptsKey].map((key) =>
      this.#key(key),
    );
    const results = await this.#timed("an append", this.#client.mastraInngestAppend(...keys, ...argumentsList));
    return results.map(([status, index, markerIndex, currentAttempt], position) => {
      const name = statusNames[status];
      if (name === "appended") {
        if (markerIndex < 0) {
          return { status: name, index };
        }
        const entry = request.entries[position];
        const producer = entry?.producer;
        const marker = createSupersededMarker(entry?.value as StreamEventEnvelope, {
          stepId: producer?.stepId ?? "",
          attempt: producer?.attempt ?? 0,
          supersededAttempt: currentAttempt,
        });
        return { status: name, index, marker: { ...marker, index: markerIndex } };
      }
      if (name === "duplicate") {
        return { status: name, index };
      }
      return name === "stale" ? { status: name, currentAttempt } : { status: "limit" };
    });
  }

  /** Sets the keys' time to live to exactly `ttlMs` from now, shorter or longer than it was (`PEXPIRE`). */
  async expire(keys: readonly string[], ttlMs: number): Promise<void> {
    const transaction = this.#client.multi();
    for (const key of keys) {
      transaction.pexpire(this.#key(key), ttlMs);
    }
    await this.#timed("an expire", transaction.exec());
  }

  /** Keeps the keys at least `ttlMs` from now, never shortening a longer TTL (`PEXPIRE ... GT`). */
  async retain(keys: readonly string[], ttlMs: number): Promise<void> {
    const transaction = this.#client.multi();
    for (const key of keys) {
      transaction.pexpire(this.#key(key), ttlMs, "GT");
    }
    await this.#timed("a retain", transaction.exec());
  }

  /** Quits the connection when the cache opened it from a `url`; a `client` you passed is left open. */
  async close(): Promise<void> {
    if (this.#ownsClient && this.#client.status !== "end") {
      await this.#client.quit().catch(() => this.#client.disconnect());
    }
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

/** The batch message's JSON up to the opening bracket of its events; the script appends the rest. */
function messageHead(first: StreamEventEnvelope | undefined): string {
  const message = JSON.stringify({
    type: EVENT_BATCH_KIND,
    id: randomUUID(),
    runId: first?.runId ?? "",
    createdAt: new Date().toISOString(),
    data: { kind: EVENT_BATCH_KIND, version: 1, events: [] },
  });
  return message.slice(0, -"]}}".length);
}

/** The supersession marker's JSON up to its `supersededAttempt` value, which the script fills in. */
function markerHead(first: StreamEventEnvelope): { head: string; key: string } {
  const producer = first.producer as NonNullable<StreamEventEnvelope["producer"]>;
  const marker = createSupersededMarker(first, {
    stepId: producer.stepId,
    attempt: producer.attempt,
    supersededAttempt: 0,
  });
  const text = JSON.stringify(marker);
  return { head: text.slice(0, -"0}}".length), key: `id:${marker.id}` };
}

/**
 * The prefix followed by `:`. A prefix that already ends with `:` (as `"myapp:"` did when the caller
 * had to add the separator) keeps its keys where they were instead of gaining a second one.
 */
function withSeparator(keyPrefix: string): string {
  return keyPrefix.endsWith(keySeparator) ? keyPrefix : `${keyPrefix}${keySeparator}`;
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
