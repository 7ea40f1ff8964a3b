/** One topic's acknowledged indices, as far as this process knows them. */
interface Acknowledged {
  /** One past the highest index an append of this topic returned to this process. */
  next: number;
  /** When the topic's keys expire if nothing refreshes them, in milliseconds since the epoch. */
  expiresAt: number;
}

/**
 * The next index each topic must continue from, by what its appends acknowledged to this process:
 * the append script compares it with the stored counter to find acknowledged events that are gone
 * (a failover to a replica that had not received them). A topic is forgotten once its keys may have
 * expired on their own (nothing lost then), when this process deletes them, and past `limit`
 * topics, the least recently written first, so memory stays bounded.
 */
export class AcknowledgedIndices {
  readonly #topics = new Map<string, Acknowledged>();
  readonly #limit: number;

  constructor(limit = 10_000) {
    this.#limit = limit;
  }

  /** The next index expected for the topic whose counter is `counterKey`, or -1 when none is known. */
  expectedNext(counterKey: string, now: number = Date.now()): number {
    const known = this.#topics.get(counterKey);
    if (known === undefined || known.expiresAt <= now) {
      return -1;
    }
    return known.next;
  }

  /** Records the indices an append returned; `ttlMs` is the time to live it gave the topic's keys. */
  acknowledge(counterKey: string, indices: readonly number[], ttlMs: number, now: number = Date.now()): void {
    const known = this.#topics.get(counterKey);
    const next = Math.max(known !== undefined && known.expiresAt > now ? known.next : 0, ...indices.map((i) => i + 1));
    // Re-inserted, so the map's order is the order of the latest writes.
    this.#topics.delete(counterKey);
    this.#topics.set(counterKey, { next, expiresAt: ttlMs > 0 ? now + ttlMs : Number.POSITIVE_INFINITY });
    if (this.#topics.size > this.#limit) {
      const oldest = this.#topics.keys().next().value;
      if (oldest !== undefined) {
        this.#topics.delete(oldest);
      }
    }
  }

  /** Forgets a topic whose counter this process deleted. */
  forget(counterKey: string): void {
    this.#topics.delete(counterKey);
  }

  /** Forgets every topic. */
  clear(): void {
    this.#topics.clear();
  }
}
