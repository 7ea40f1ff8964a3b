import { MastraServerCache } from "@mastra/core/cache";
import {
  createSupersededMarker,
  describeValue,
  ErrorCode,
  type IndexedAppendCache,
  type IndexedAppendOutcome,
  type IndexedAppendRequest,
  MastraInngestError,
  type StreamCacheCapabilities,
  type StreamEventEnvelope,
} from "@mastra/inngest-core";
import { decideAppend } from "./internal/append-rules.ts";

/** Options of {@link InMemoryStreamCache}. */
export interface InMemoryStreamCacheOptions {
  /**
   * Time to live of a key written without its own TTL, in milliseconds. Appends refresh it.
   * @default 3_600_000 (one hour)
   */
  ttlMs?: number;
  /**
   * The most keys kept; past it the least recently written keys are dropped, so memory stays
   * bounded however many runs a process serves.
   * @default 10_000
   */
  maxKeys?: number;
  /**
   * The most entries a list keeps; past it the oldest are trimmed (their indices are not reused,
   * so a subscriber asking for a trimmed offset gets an `offset-expired` notice). No trimming when absent.
   */
  maxListLength?: number;
}

interface StoredValue {
  kind: "value";
  value: unknown;
  expiresAt: number;
}

interface StoredList {
  kind: "list";
  items: unknown[];
  expiresAt: number;
}

interface StoredHash {
  kind: "hash";
  fields: Map<string, number>;
  expiresAt: number;
}

type Stored = StoredValue | StoredList | StoredHash;

/** Prefix of the hash field that records a step's newest attempt; event keys never start with it. */
const attemptField = "attempt@";

/**
 * A bounded in-memory `MastraServerCache` for one process and for tests: values, lists and
 * counters with TTLs, an atomic `listPushIndexed`, and the stream capabilities of
 * `@mastra/inngest-core` (atomic indexed append of many events with deduplication and attempt
 * ordering). It is not shared across processes: runs whose callers and workers live in different
 * processes need a shared cache such as Redis. Values are stored as JSON copies, as a network cache
 * would store them, so a `Date` comes back as a string.
 *
 * @example
 * const pubsub = new CachingPubSub(new EventEmitterPubSub(), new InMemoryStreamCache());
 */
export class InMemoryStreamCache extends MastraServerCache implements IndexedAppendCache {
  /** Not shared across processes; appends many events atomically. */
  readonly streamCacheCapabilities: StreamCacheCapabilities = Object.freeze({
    crossProcess: false,
    indexedAppend: true,
  });
  readonly #entries = new Map<string, Stored>();
  readonly #ttlMs: number;

  /** The time to live of keys written without one of their own, in milliseconds (`ttlMs`). */
  get defaultTtlMs(): number {
    return this.#ttlMs;
  }
  readonly #maxKeys: number;
  readonly #maxListLength: number | undefined;

  constructor(options: InMemoryStreamCacheOptions = {}) {
    super({ name: "InMemoryStreamCache" });
    this.#ttlMs = positiveInteger("ttlMs", options.ttlMs ?? 3_600_000);
    this.#maxKeys = positiveInteger("maxKeys", options.maxKeys ?? 10_000);
    this.#maxListLength =
      options.maxListLength === undefined ? undefined : positiveInteger("maxListLength", options.maxListLength);
  }

  async get(key: string): Promise<unknown> {
    const entry = this.#read(key);
    if (entry === undefined) {
      return undefined;
    }
    if (entry.kind === "value") {
      return clone(entry.value);
    }
    return entry.kind === "list" ? clone(entry.items) : Object.fromEntries(entry.fields);
  }

  async set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    this.#write(key, { kind: "value", value: clone(value), expiresAt: Date.now() + (ttlMs ?? this.#ttlMs) });
  }

  async listLength(key: string): Promise<number> {
    const entry = this.#read(key);
    return entry?.kind === "list" ? entry.items.length : 0;
  }

  async listPush(key: string, value: unknown): Promise<void> {
    this.#list(key, this.#ttlMs).items.push(clone(value));
    this.#trim(key);
  }

  async listFromTo(key: string, from: number, to = -1): Promise<unknown[]> {
    const entry = this.#read(key);
    if (entry?.kind !== "list") {
      return [];
    }
    const length = entry.items.length;
    const start = from < 0 ? Math.max(length + from, 0) : from;
    const end = to < 0 ? length + to : Math.min(to, length - 1);
    return end < start ? [] : clone(entry.items.slice(start, end + 1));
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async clear(): Promise<void> {
    this.#entries.clear();
  }

  async increment(key: string): Promise<number> {
    return this.#incrementSync(key, this.#ttlMs);
  }

  override async listPushIndexed(listKey: string, counterKey: string, value: Record<string, unknown>): Promise<number> {
    const index = this.#incrementSync(counterKey, this.#ttlMs) - 1;
    this.#list(listKey, this.#ttlMs).items.push(clone({ ...value, index }));
    this.#trim(listKey);
    return index;
  }

  /** Appends a batch atomically: JavaScript runs it without interruption. */
  async appendIndexed(request: IndexedAppendRequest): Promise<IndexedAppendOutcome[]> {
    const ttlMs = request.ttlMs ?? this.#ttlMs;
    const producers = this.#hash(request.producersKey, ttlMs);
    const outcomes: IndexedAppendOutcome[] = [];
    const counter = this.#read(request.counterKey);
    let stored = counter?.kind === "value" && typeof counter.value === "number" ? counter.value : 0;
    const append = (value: Record<string, unknown>, key: string): number => {
      const index = this.#incrementSync(request.counterKey, ttlMs) - 1;
      this.#list(request.listKey, ttlMs).items.push(clone({ ...value, index }));
      producers.fields.set(key, index);
      stored = index + 1;
      return index;
    };
    for (const entry of request.entries) {
      const producer = entry.producer;
      const decision = decideAppend(entry, {
        knownIndex: producers.fields.get(entry.key),
        stored,
        maxEvents: request.maxEvents,
        currentAttempt: producer === undefined ? undefined : producers.fields.get(attemptField + producer.stepId),
      });
      if (decision.action === "refuse") {
        outcomes.push(decision.outcome);
        continue;
      }
      let marker: StreamEventEnvelope | undefined;
      if (producer !== undefined && decision.supersededAttempt !== undefined) {
        const built = createSupersededMarker(entry.value, {
          stepId: producer.stepId,
          attempt: producer.attempt,
          supersededAttempt: decision.supersededAttempt,
        });
        const markerIndex = append(built as unknown as Record<string, unknown>, `id:${built.id}`);
        marker = { ...built, index: markerIndex };
        this.#list(request.attemptsKey, ttlMs).items.push({
          stepId: producer.stepId,
          attempt: producer.attempt,
          index: markerIndex,
        });
      }
      if (producer !== undefined && decision.recordsAttempt) {
        producers.fields.set(attemptField + producer.stepId, producer.attempt);
      }
      const index = append(entry.value as unknown as Record<string, unknown>, entry.key);
      outcomes.push(marker === undefined ? { status: "appended", index } : { status: "appended", index, marker });
    }
    this.#trim(request.listKey);
    for (const key of [request.listKey, request.counterKey, request.producersKey, request.attemptsKey]) {
      const entry = this.#read(key);
      if (entry !== undefined) {
        entry.expiresAt = Date.now() + ttlMs;
      }
    }
    return outcomes;
  }

  /** Sets the keys' time to live to exactly `ttlMs` from now, shorter or longer than it was. */
  async expire(keys: readonly string[], ttlMs: number): Promise<void> {
    const until = Date.now() + ttlMs;
    for (const key of keys) {
      const entry = this.#read(key);
      if (entry !== undefined) {
        entry.expiresAt = until;
      }
    }
  }

  async retain(keys: readonly string[], ttlMs: number): Promise<void> {
    const until = Date.now() + ttlMs;
    for (const key of keys) {
      const entry = this.#read(key);
      if (entry !== undefined && entry.expiresAt < until) {
        entry.expiresAt = until;
      }
    }
  }

  #read(key: string): Stored | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #write(key: string, entry: Stored): void {
    // Re-inserting moves the key to the end, so eviction drops the least recently written key.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#maxKeys) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) {
        break;
      }
      this.#entries.delete(oldest);
    }
  }

  #list(key: string, ttlMs: number): StoredList {
    const entry = this.#read(key);
    if (entry?.kind === "list") {
      entry.expiresAt = Date.now() + ttlMs;
      return entry;
    }
    const created: StoredList = { kind: "list", items: [], expiresAt: Date.now() + ttlMs };
    this.#write(key, created);
    return created;
  }

  #hash(key: string, ttlMs: number): StoredHash {
    const entry = this.#read(key);
    if (entry?.kind === "hash") {
      return entry;
    }
    const created: StoredHash = { kind: "hash", fields: new Map(), expiresAt: Date.now() + ttlMs };
    this.#write(key, created);
    return created;
  }

  #incrementSync(key: string, ttlMs: number): number {
    const entry = this.#read(key);
    const next = (entry?.kind === "value" && typeof entry.value === "number" ? entry.value : 0) + 1;
    if (entry?.kind === "value") {
      entry.value = next;
      entry.expiresAt = Date.now() + ttlMs;
    } else {
      this.#write(key, { kind: "value", value: next, expiresAt: Date.now() + ttlMs });
    }
    return next;
  }

  #trim(key: string): void {
    const entry = this.#entries.get(key);
    if (this.#maxListLength !== undefined && entry?.kind === "list" && entry.items.length > this.#maxListLength) {
      entry.items.splice(0, entry.items.length - this.#maxListLength);
    }
  }
}

function clone<Value>(value: Value): Value {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as Value);
}

function positiveInteger(field: string, value: unknown): number {
  if (Number.isSafeInteger(value) && (value as number) > 0) {
    return value as number;
  }
  throw new MastraInngestError(
    `[@mastra/inngest-stream-cache] ${field} must be a positive integer, got ${describeValue(value)}`,
    { code: ErrorCode.INVALID_OPTION },
  );
}
