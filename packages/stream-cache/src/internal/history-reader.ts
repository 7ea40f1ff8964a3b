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
   * order; stops at the end of what is stored.
   */
  async *pages(keys: TopicKeys, fromIndex: number, untilIndex?: number): AsyncGenerator<StreamEvent[]> {
    const first = await this.firstIndex(keys);
    if (first === undefined) {
      return;
    }
    let position = Math.max(fromIndex - first, 0);
    for (;;) {
      const raw = await this.#cache.listFromTo(keys.events, position, position + this.#pageSize - 1);
      const events: StreamEvent[] = [];
      for (const entry of raw) {
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
      if (raw.length < this.#pageSize) {
        return;
      }
      position += raw.length;
    }
  }
}

function indexOf(entry: unknown): number | undefined {
  const index = (entry as { index?: unknown } | undefined)?.index;
  return typeof index === "number" ? index : undefined;
}
