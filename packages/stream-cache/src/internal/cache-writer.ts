import type { MastraServerCache } from "@mastra/core/cache";
import {
  createSupersededMarker,
  type IndexedAppendEntry,
  type IndexedAppendOutcome,
  type StreamEventEnvelope,
  supportsIndexedAppend,
  type TopicKeys,
} from "@mastra/inngest-core";
import { decideAppend } from "./append-rules.ts";

/** One topic's append: its keys and the entries, in order. */
export interface TopicAppend {
  keys: TopicKeys;
  entries: IndexedAppendEntry[];
  ttlMs: number;
  maxEvents: number | undefined;
  /** Where the cache announces what it stored (only for caches that notify). */
  notifyChannel?: string;
}

/** Writes a topic's events to the cache, with the cache's atomic capability or a fallback. */
export interface CacheWriter {
  /** Whether the writes are atomic and deduplicated across processes (false for the fallback). */
  readonly atomic: boolean;
  append(append: TopicAppend): Promise<IndexedAppendOutcome[]>;
  retain(keys: TopicKeys, ttlMs: number): Promise<void>;
  clear(keys: TopicKeys): Promise<void>;
}

/**
 * The writer for a cache: its `appendIndexed` when it declares the capability; otherwise a
 * fallback on `listPushIndexed`, one event at a time, that keeps deduplication keys and attempts in
 * this process's memory. The fallback's guarantees hold within one process only, and its TTLs are
 * the cache's own (a plain `MastraServerCache` has no call to set a list's TTL).
 */
export function createCacheWriter(cache: MastraServerCache): CacheWriter {
  if (supportsIndexedAppend(cache)) {
    return {
      atomic: true,
      append: ({ keys, entries, ttlMs, maxEvents, notifyChannel }) =>
        cache.appendIndexed({
          listKey: keys.events,
          counterKey: keys.index,
          producersKey: keys.producers,
          attemptsKey: keys.attempts,
          entries,
          ttlMs,
          ...(maxEvents === undefined ? {} : { maxEvents }),
          ...(notifyChannel === undefined ? {} : { notifyChannel }),
        }),
      retain: (keys, ttlMs) => cache.retain([keys.events, keys.index, keys.producers, keys.attempts], ttlMs),
      clear: (keys) => deleteKeys(cache, keys),
    };
  }
  return new FallbackWriter(cache);
}

interface FallbackState {
  keys: Map<string, number>;
  attempts: Map<string, number>;
  length: number | undefined;
}

/** Keeps at most this many topics' fallback state; the oldest is forgotten past it. */
const fallbackTopicLimit = 10_000;

class FallbackWriter implements CacheWriter {
  readonly atomic = false;
  readonly #cache: MastraServerCache;
  readonly #states = new Map<string, FallbackState>();

  constructor(cache: MastraServerCache) {
    this.#cache = cache;
  }

  async append({ keys, entries, maxEvents }: TopicAppend): Promise<IndexedAppendOutcome[]> {
    const state = this.#state(keys.events);
    if (state.length === undefined) {
      state.length = await this.#cache.listLength(keys.events);
    }
    const outcomes: IndexedAppendOutcome[] = [];
    for (const entry of entries) {
      const producer = entry.producer;
      const decision = decideAppend(entry, {
        knownIndex: state.keys.get(entry.key),
        stored: state.length,
        maxEvents,
        currentAttempt: producer === undefined ? undefined : state.attempts.get(producer.stepId),
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
        const markerIndex = await this.#push(keys, state, built, `id:${built.id}`);
        await this.#cache.listPush(keys.attempts, {
          stepId: producer.stepId,
          attempt: producer.attempt,
          index: markerIndex,
        });
        marker = { ...built, index: markerIndex };
      }
      if (producer !== undefined && decision.recordsAttempt) {
        state.attempts.set(producer.stepId, producer.attempt);
      }
      const index = await this.#push(keys, state, entry.value, entry.key);
      outcomes.push(marker === undefined ? { status: "appended", index } : { status: "appended", index, marker });
    }
    return outcomes;
  }

  async retain(): Promise<void> {
    // A plain MastraServerCache has no call that sets a key's TTL; its own default applies.
  }

  async clear(keys: TopicKeys): Promise<void> {
    this.#states.delete(keys.events);
    await deleteKeys(this.#cache, keys);
  }

  async #push(keys: TopicKeys, state: FallbackState, value: StreamEventEnvelope, key: string): Promise<number> {
    const index = await this.#cache.listPushIndexed(
      keys.events,
      keys.index,
      value as unknown as Record<string, unknown>,
    );
    state.keys.set(key, index);
    state.length = (state.length ?? 0) + 1;
    return index;
  }

  #state(listKey: string): FallbackState {
    let state = this.#states.get(listKey);
    if (state === undefined) {
      state = { keys: new Map(), attempts: new Map(), length: undefined };
      this.#states.set(listKey, state);
      if (this.#states.size > fallbackTopicLimit) {
        const oldest = this.#states.keys().next().value;
        if (oldest !== undefined) {
          this.#states.delete(oldest);
        }
      }
    }
    return state;
  }
}

async function deleteKeys(cache: MastraServerCache, keys: TopicKeys): Promise<void> {
  await Promise.all([keys.events, keys.index, keys.producers, keys.attempts].map((key) => cache.delete(key)));
}
