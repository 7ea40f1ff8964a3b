import type { MastraServerCache } from "@mastra/core/cache";
import type { ProducerKey, StreamEventEnvelope } from "./stream-event.ts";

/**
 * What a `MastraServerCache` declares about itself beyond Mastra's contract. Declared, never
 * inferred: the stream cache decides on them how indices are assigned (see ARCHITECTURE §5).
 */
export interface StreamCacheCapabilities {
  /**
   * Whether every process that uses the cache sees the same data (Redis: yes; in-memory: no).
   * Only then do indices come from the cache, and `observe()` or `resume()` work from any process.
   */
  crossProcess: boolean;
  /** Whether the cache implements {@link IndexedAppendCache}. */
  indexedAppend: boolean;
  /**
   * Whether `appendIndexed` can also publish the stored events, as one batch message, on the
   * channel of a {@link CacheNotifiedPubSub} in the same operation: one round trip per batch.
   */
  notifies?: boolean;
}

/** One event to append with {@link IndexedAppendCache.appendIndexed}. */
export interface IndexedAppendEntry {
  /** The event to store; the cache sets its `index` to the index it allocates. */
  value: StreamEventEnvelope;
  /**
   * What identifies the publish for deduplication: the formatted producer key, or `id:<event id>`
   * for events no step produced. An entry whose key is stored already is not stored again.
   */
  key: string;
  /** Who published it, for attempt supersession; absent for events no step produced. */
  producer?: ProducerKey;
  /** Whether the entry may exceed `maxEvents` (terminal events always get stored). */
  exemptFromLimit?: boolean;
}

/** A batch of events to append to one topic's history, atomically. */
export interface IndexedAppendRequest {
  /** The list of stored events (see `TopicKeys.events`). */
  listKey: string;
  /** The counter that allocates indices (see `TopicKeys.index`). */
  counterKey: string;
  /** Where stored deduplication keys and each step's newest attempt are recorded (`TopicKeys.producers`). */
  producersKey: string;
  /** The list of supersessions, `{ stepId, attempt, index }` (`TopicKeys.attempts`). */
  attemptsKey: string;
  /** The events, in order. */
  entries: IndexedAppendEntry[];
  /** The time to live of the topic's keys after this append, in milliseconds; the cache default when absent. */
  ttlMs?: number;
  /** The most events the topic may hold; entries past it are refused unless exempt. No limit when absent. */
  maxEvents?: number;
  /**
   * When set (only for a cache that `notifies`), the cache publishes the events it stored, markers
   * included, in order, as one message on this channel: a JSON event of type `mastra-inngest.batch`
   * whose `data` is an `EventBatch`.
   */
  notifyChannel?: string;
}

/**
 * What happened to one entry of an {@link IndexedAppendRequest}, at the same position:
 * - `appended`: stored with a new `index`; when it is the first event of a newer attempt of its
 *   step, the cache stored `marker` (see `createSupersededMarker`) just before it, with its own index;
 * - `duplicate`: its key was stored already, with `index`; nothing was stored;
 * - `stale`: it belongs to an attempt older than one already stored for its step; nothing was stored;
 * - `limit`: the topic holds `maxEvents` events; nothing was stored.
 */
export type IndexedAppendOutcome =
  | { status: "appended"; index: number; marker?: StreamEventEnvelope }
  | { status: "duplicate"; index: number }
  | { status: "stale"; currentAttempt: number }
  | { status: "limit" };

/**
 * The optional capability of a cache that appends many events in one atomic operation: allocate
 * consecutive indices (equal to list positions), store the events with them, deduplicate by key,
 * order attempts of a step, refresh the TTLs. Without it the stream cache falls back to
 * `listPushIndexed` one event at a time, with guarantees that hold within one process only.
 */
export interface IndexedAppendCache {
  /** The declared capabilities. */
  readonly streamCacheCapabilities: StreamCacheCapabilities;
  /** Appends the entries in order as one atomic operation. */
  appendIndexed(request: IndexedAppendRequest): Promise<IndexedAppendOutcome[]>;
  /** Keeps the keys for at least `ttlMs` milliseconds from now (never shortens a longer TTL). */
  retain(keys: readonly string[], ttlMs: number): Promise<void>;
  /** The time to live of keys written without one of their own, in milliseconds. */
  readonly defaultTtlMs?: number;
  /** Sets the keys' time to live to exactly `ttlMs` from now, shorter or longer than it was. */
  expire?(keys: readonly string[], ttlMs: number): Promise<void>;
}

const noCapabilities: StreamCacheCapabilities = Object.freeze({
  crossProcess: false,
  indexedAppend: false,
  notifies: false,
});

/**
 * A `PubSub` whose deliveries a cache on the same server can publish for it (Redis: the cache's
 * append script PUBLISHes on the channel the PubSub subscribes to), so storing and announcing a
 * batch cost one round trip.
 */
export interface CacheNotifiedPubSub {
  /** The channel a cache should publish a topic's batches on, or `undefined` when this cache cannot. */
  notificationChannel(topic: string, cache: MastraServerCache): string | undefined;
}

/**
 * The channel on which `cache` can announce a topic's batches for `pubsub` in the same operation
 * that stores them, or `undefined` when the pair cannot (then the stream cache publishes itself).
 */
export function getNotificationChannel(pubsub: unknown, cache: MastraServerCache, topic: string): string | undefined {
  if (getStreamCacheCapabilities(cache).notifies !== true) {
    return undefined;
  }
  const candidate = pubsub as Partial<CacheNotifiedPubSub> | null;
  return typeof candidate?.notificationChannel === "function" ? candidate.notificationChannel(topic, cache) : undefined;
}

/**
 * The capabilities a cache declares in `streamCacheCapabilities`; a cache that declares none
 * (any plain `MastraServerCache`) has none.
 */
export function getStreamCacheCapabilities(cache: MastraServerCache): StreamCacheCapabilities {
  const candidate = cache as Partial<IndexedAppendCache>;
  const declared = candidate.streamCacheCapabilities;
  if (typeof declared !== "object" || declared === null) {
    return noCapabilities;
  }
  const indexedAppend =
    declared.indexedAppend === true &&
    typeof candidate.appendIndexed === "function" &&
    typeof candidate.retain === "function";
  return {
    crossProcess: declared.crossProcess === true,
    indexedAppend,
    notifies: indexedAppend && declared.notifies === true,
  };
}

/** Whether a cache declares and implements {@link IndexedAppendCache}. */
export function supportsIndexedAppend(cache: MastraServerCache): cache is MastraServerCache & IndexedAppendCache {
  return getStreamCacheCapabilities(cache).indexedAppend;
}

/**
 * The time to live a cache gives keys written without one of their own, when it says (this
 * package's caches do); a run's retention defaults to it.
 */
export function getDefaultTtlMs(cache: MastraServerCache): number | undefined {
  const declared = (cache as Partial<IndexedAppendCache>).defaultTtlMs;
  return typeof declared === "number" && Number.isFinite(declared) && declared > 0 ? declared : undefined;
}

/**
 * Keeps `keys` for at least `ttlMs` from now, on a cache that can (this package's caches); on any
 * other cache the keys keep the TTL they were written with.
 */
export async function retainKeys(cache: MastraServerCache, keys: readonly string[], ttlMs: number): Promise<void> {
  const candidate = cache as Partial<IndexedAppendCache>;
  if (typeof candidate.retain === "function") {
    await candidate.retain(keys, ttlMs);
  }
}

/**
 * Sets `keys` to expire exactly `ttlMs` from now, shortening a longer TTL (written with the
 * cache's default, say), on a cache that can; on any other cache, keeps them at least that long.
 */
export async function expireKeys(cache: MastraServerCache, keys: readonly string[], ttlMs: number): Promise<void> {
  const candidate = cache as Partial<IndexedAppendCache>;
  if (typeof candidate.expire === "function") {
    await candidate.expire(keys, ttlMs);
  } else {
    await retainKeys(cache, keys, ttlMs);
  }
}
