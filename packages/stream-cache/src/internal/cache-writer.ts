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

/**
 * Thrown by a writer whose append failed part way: `stored` holds what it stored before the
 * failure (markers and events, with their indices, in order), so they can still be sent, and
 * `cause` is the failure. Trying the same append again stores the rest: what is stored already
 * comes back as duplicates.
 */
export class IncompleteAppendError extends Error {
  readonly stored: readonly StreamEventEnvelope[];

  constructor(stored: readonly StreamEventEnvelope[], cause: unknown) {
    super(`an append stored ${stored.length} entries, then failed`, { cause });
    this.name = "IncompleteAppendError";
    this.stored = stored;
  }
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
  /** Supersession markers stored, by `<stepId>#<attempt>`, and whether their attempt record is too. */
  markers: Map<string, { index: number; recorded: boolean }>;
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
    // One event at a time, so a failure can come after some are stored: they are reported with the
    // failure, and the state above makes trying again store the rest without repeating them.
    const stored: StreamEventEnvelope[] = [];
    try {
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
          marker = await this.#storeMarker(keys, state, entry.value, decision.supersededAttempt, stored);
        }
        if (producer !== undefined && decision.recordsAttempt) {
          state.attempts.set(producer.stepId, producer.attempt);
        }
        const index = await this.#push(keys, state, entry.value, entry.key);
        stored.push({ ...entry.value, index });
        outcomes.push(marker === undefined ? { status: "appended", index } : { status: "appended", index, marker });
      }
    } catch (error) {
      throw new IncompleteAppendError(stored, error);
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

  /**
   * Stores the marker of a newer attempt and its attempt record, once each however often the
   * append is tried; returns the marker when this call stored it, having added it to `stored`.
   */
  async #storeMarker(
    keys: TopicKeys,
    state: FallbackState,
    first: StreamEventEnvelope,
    supersededAttempt: number,
    stored: StreamEventEnvelope[],
  ): Promise<StreamEventEnvelope | undefined> {
    const producer = first.producer as NonNullable<StreamEventEnvelope["producer"]>;
    const markerKey = `${producer.stepId}#${producer.attempt}`;
    let known = state.markers.get(markerKey);
    let marker: StreamEventEnvelope | undefined;
    if (known === undefined) {
      const built = createSupersededMarker(first, {
        stepId: producer.stepId,
        attempt: producer.attempt,
        supersededAttempt,
      });
      const index = await this.#push(keys, state, built, `id:${built.id}`);
      known = { index, recorded: false };
      state.markers.set(markerKey, known);
      marker = { ...built, index };
      stored.push(marker);
    }
    if (!known.recorded) {
      await this.#cache.listPush(keys.attempts, {
        stepId: producer.stepId,
        attempt: producer.attempt,
        index: known.index,
      });
      known.recorded = true;
    }
    return marker;
  }

  async #push(keys: TopicKeys, state: FallbackState, value: StreamEventEnvelope, key: string): Promise<number> {
    let index: number;
    try {
      index = await this.#cache.listPushIndexed(keys.events, keys.index, value as unknown as Record<string, unknown>);
    } catch (error) {
      // A push whose reply was lost may have stored the value: pushing it again would store it twice.
      const landed = await this.#lastIndexOf(keys, value.id).catch(() => undefined);
      if (landed === undefined) {
        throw error;
      }
      index = landed;
    }
    state.keys.set(key, index);
    state.length = (state.length ?? 0) + 1;
    return index;
  }

  /** The index of the last stored entry when it is the event with this id. */
  async #lastIndexOf(keys: TopicKeys, id: string): Promise<number | undefined> {
    const length = await this.#cache.listLength(keys.events);
    if (length === 0) {
      return undefined;
    }
    const [last] = (await this.#cache.listFromTo(keys.events, length - 1, length - 1)) as Array<
      Partial<StreamEventEnvelope> | undefined
    >;
    return last?.id === id && typeof last.index === "number" ? last.index : undefined;
  }

  #state(listKey: string): FallbackState {
    let state = this.#states.get(listKey);
    if (state === undefined) {
      state = { keys: new Map(), attempts: new Map(), markers: new Map(), length: undefined };
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
