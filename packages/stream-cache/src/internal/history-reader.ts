import type { MastraServerCache } from "@mastra/core/cache";
import { fromEnvelope, type StreamEvent, type StreamEventEnvelope, type TopicKeys } from "@mastra/inngest-core";

/**
 * Reads a topic's stored history in pages. Entries are stored in index order; when a cache trims
 * the oldest, list positions and indices part, so positions are computed from the first entry's index.
 */
export class HistoryReader {
  readonly #cache: MastraServerCache;
  readonly #pageSize: number;

  constructor(cache: MastraServerCache, pageSize: number) {
    this.#cache = cache;
    this.#pageSize = pageSize;
  }

  /** The index of the oldest stored event, or `undefined` when nothing is stored. */
  async firstIndex(keys: TopicKeys): Promise<number | undefined> {
    const [first] = await this.#cache.listFromTo(keys.events, 0, 0);
    return indexOf(first);
  }

  /** The index of the newest stored event, or `undefined` when nothing is stored. */
  async lastIndex(keys: TopicKeys): Promise<number | undefined> {
    const length = await this.#cache.listLength(keys.events);
    if (length === 0) {
      return undefined;
    }
    const [last] = await this.#cache.listFromTo(keys.events, length - 1, length - 1);
    return indexOf(last);
  }

  /** How many indices were ever allocated for the topic (0 when its counter is gone). */
  async allocated(keys: TopicKeys): Promise<number> {
    const value = await this.#cache.get(keys.index);
    const count = typeof value === "number" ? value : Number(value);
    return Number.isFinite(count) && count > 0 ? count : 0;
  }

  /** Each step's newest attempt, from the topic's supersession records. */
  async attempts(keys: TopicKeys): Promise<Map<string, number>> {
    const records = await this.#cache.listFromTo(keys.attempts, 0, -1);
    const attempts = new Map<string, number>();
    for (const record of records) {
      const { stepId, attempt } = (record ?? {}) as { stepId?: unknown; attempt?: unknown };
      if (typeof stepId === "string" && typeof attempt === "number" && attempt > (attempts.get(stepId) ?? -1)) {
        attempts.set(stepId, attempt);
      }
    }
    return attempts;
  }

  /**
   * Pages of events with index `fromIndex` and above, up to `untilIndex` (exclusive) when given, in
   * order; stops at the end of what is stored. Reads are pipelined: the next {@link readAhead}
   * ranges are on their way while a page is decoded and delivered, and each range is sized to hold
   * about {@link targetPageBytes} (from the size of the events read so far), so memory stays flat
   * however long the history and however large its events.
   */
  async *pages(keys: TopicKeys, fromIndex: number, untilIndex?: number): AsyncGenerator<StreamEvent[]> {
    const first = await this.firstIndex(keys);
    if (first === undefined) {
      return;
    }
    // Positions follow indices from the first stored one; a bounded read asks for no more than it needs.
    const end = untilIndex === undefined ? undefined : Math.max(untilIndex - first, 0);
    const ranges = new RangeReader(this.#cache, keys.events, Math.max(fromIndex - first, 0), this.#pageSize, end);
    try {
      for (;;) {
        const raw = await ranges.next();
        const events: StreamEvent[] = [];
        for (const entry of raw.values) {
          const index = indexOf(entry);
          if (index === undefined || index < fromIndex) {
            continue;
          }
          if (untilIndex !== undefined && index >= untilIndex) {
            if (events.length > 0) {
              yield events;
            }
            return;
          }
          events.push(fromEnvelope(entry as StreamEventEnvelope));
        }
        if (events.length > 0) {
          yield events;
        }
        if (raw.last) {
          return;
        }
      }
    } finally {
      ranges.close();
    }
  }
}

/** Ranges requested ahead of the one being delivered. */
export const readAhead: number = 2;

/** The bytes of JSON a range is sized to hold. */
export const targetPageBytes: number = 256 * 1024;

/**
 * Reads a list in consecutive ranges, up to `end` (exclusive) when given: one range first, and
 * once a range came back full (more is stored), {@link readAhead} ranges requested ahead of the one
 * returned, each sized from the size of the entries read so far.
 */
class RangeReader {
  readonly #cache: MastraServerCache;
  readonly #key: string;
  readonly #maxEntries: number;
  readonly #end: number | undefined;
  #position: number;
  #entries: number;
  #ahead: Array<{ size: number; read: Promise<unknown[]> }> = [];
  /** Whether a range came back full, so reading ahead is worth it. */
  #streaming = false;
  #ended = false;

  constructor(cache: MastraServerCache, key: string, position: number, maxEntries: number, end?: number) {
    this.#cache = cache;
    this.#key = key;
    this.#position = position;
    this.#maxEntries = maxEntries;
    this.#entries = maxEntries;
    this.#end = end;
  }

  /** The next range's entries, and whether it is the last (shorter than asked for, or at `end`). */
  async next(): Promise<{ values: unknown[]; last: boolean }> {
    this.#fill();
    const range = this.#ahead.shift();
    if (range === undefined) {
      return { values: [], last: true };
    }
    const values = await range.read;
    const last = values.length < range.size || (this.#ahead.length === 0 && this.#ended);
    if (last) {
      this.close();
    } else {
      this.#streaming = true;
      this.#resize(values);
      this.#fill();
    }
    return { values, last };
  }

  /** Drops the ranges requested ahead (their failures included: nobody reads them). */
  close(): void {
    for (const range of this.#ahead) {
      range.read.catch(() => {});
    }
    this.#ahead = [];
    this.#ended = true;
  }

  #fill(): void {
    const wanted = this.#streaming ? readAhead : 1;
    while (!this.#ended && this.#ahead.length < wanted) {
      const from = this.#position;
      const size = this.#end === undefined ? this.#entries : Math.min(this.#entries, this.#end - from);
      if (size <= 0) {
        this.#ended = true;
        return;
      }
      this.#position += size;
      this.#ahead.push({ size, read: this.#cache.listFromTo(this.#key, from, from + size - 1) });
    }
  }

  /** Sizes the ranges not yet requested to about targetPageBytes, from one entry of the last. */
  #resize(values: readonly unknown[]): void {
    const sample = values[values.length >> 1];
    const bytes = sample === undefined ? 0 : JSON.stringify(sample).length;
    if (bytes > 0) {
      this.#entries = Math.max(minimumRangeEntries, Math.min(this.#maxEntries, Math.floor(targetPageBytes / bytes)));
    }
  }
}

/** The fewest entries a range is sized to, however large the entries. */
const minimumRangeEntries = 16;

function indexOf(entry: unknown): number | undefined {
  const index = (entry as { index?: unknown } | undefined)?.index;
  return typeof index === "number" ? index : undefined;
}
