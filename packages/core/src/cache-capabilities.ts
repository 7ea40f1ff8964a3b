import type { MastraServerCache } from "@mastra/core/cache";
import type { ProducerKey } from "./stream-event.ts";

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
  /** Whether the cache implements {@link IndexedAppendCache.appendIndexed}. */
  indexedAppend: boolean;
}

/** One event to append with {@link IndexedAppendCache.appendIndexed}. */
export interface IndexedAppendEntry {
  /** The stored value; the cache sets its `index` field to the index it allocates. */
  value: Record<string, unknown>;
  /** Who published it; an entry whose producer key is already stored is not stored again. */
  producer?: ProducerKey;
}

/** A batch of events to append to one topic's history, atomically. */
export interface IndexedAppendRequest {
  /** The list of stored events (see `TopicKeys.events`). */
  listKey: string;
  /** The counter that allocates indices (see `TopicKeys.index`). */
  counterKey: string;
  /** Where stored producer keys are recorded (see `TopicKeys.producers`). */
  producersKey: string;
  /** The events, in order. */
  entries: IndexedAppendEntry[];
  /** The time to live of the three keys after this append, in milliseconds; the cache default when absent. */
  ttlMs?: number;
}

/** What happened to one entry of an {@link IndexedAppendRequest}, at the same position. */
export interface IndexedAppendOutcome {
  /** The entry's index: newly allocated, or the stored one for a duplicate. */
  index: number;
  /** Whether the producer key was already stored, so nothing was appended for this entry. */
  duplicate: boolean;
}

/**
 * The optional capability of a cache that appends many events in one atomic operation: allocate
 * consecutive indices, store the events with them, record their producer keys, refresh the TTLs.
 * Without it the stream cache falls back to `listPushIndexed` one event at a time.
 */
export interface IndexedAppendCache {
  /** The declared capabilities. */
  readonly streamCacheCapabilities: StreamCacheCapabilities;
  /**
   * Appends the entries in order as one atomic operation. An entry whose producer key is stored
   * already returns its stored index with `duplicate: true`, so a resent append creates no copy.
   */
  appendIndexed(request: IndexedAppendRequest): Promise<IndexedAppendOutcome[]>;
}

const noCapabilities: StreamCacheCapabilities = Object.freeze({ crossProcess: false, indexedAppend: false });

/**
 * The capabilities a cache declares in `streamCacheCapabilities`; a cache that declares none
 * (any plain `MastraServerCache`) has none.
 */
export function getStreamCacheCapabilities(cache: MastraServerCache): StreamCacheCapabilities {
  const declared = (cache as Partial<IndexedAppendCache>).streamCacheCapabilities;
  if (typeof declared !== "object" || declared === null) {
    return noCapabilities;
  }
  return {
    crossProcess: declared.crossProcess === true,
    indexedAppend:
      declared.indexedAppend === true && typeof (cache as Partial<IndexedAppendCache>).appendIndexed === "function",
  };
}

/** Whether a cache declares and implements {@link IndexedAppendCache.appendIndexed}. */
export function supportsIndexedAppend(cache: MastraServerCache): cache is MastraServerCache & IndexedAppendCache {
  return getStreamCacheCapabilities(cache).indexedAppend;
}
