/** One accepted publish, waiting to be written and sent. */
export interface QueuedPublish<Item> {
  item: Item;
  /** Flush at once instead of waiting for the batch window (terminal events). */
  urgent: boolean;
}

/** What a {@link PublishQueue} needs. */
export interface PublishQueueOptions<Item> {
  /** How long the first queued event may wait for others, in ms; 0 flushes on the next tick. */
  batchWindowMs: number;
  /** Flush as soon as this many events are queued. */
  maxBatchEvents: number;
  /** The most events accepted and not yet written; past it `enqueue` waits for the writes ahead. */
  maxQueuedEvents: number;
  /**
   * Writes and sends one batch, in order; rejects if any of it failed for good. Calls `retrying`
   * when a try failed and it is about to try again.
   */
  write(items: Item[], retrying: () => void): Promise<void>;
}

/**
 * Orders publishes and writes them in batches, one batch at a time: `enqueue` returns without
 * waiting for the network (unless `maxQueuedEvents` are already waiting, or a write is being tried
 * again after a failure), and an urgent publish resolves or rejects with its batch. A batch that
 * failed for good puts the queue in a failed state: what was queued behind it is not written, and
 * later publishes reject with the error until `flush()` has reported it, so nothing is stored with
 * a gap behind it.
 */
export class PublishQueue<Item> {
  readonly #options: PublishQueueOptions<Item>;
  #pending: Item[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> = Promise.resolve();
  #failure: { error: unknown } | undefined;
  /** Whether the batch being written failed once and is being tried again. */
  #retrying = false;
  /** Events accepted and not yet written (pending or in a batch being written). */
  #unwritten = 0;

  constructor(options: PublishQueueOptions<Item>) {
    this.#options = options;
  }

  /** Accepts a publish; see the class description for when the promise settles. */
  async enqueue(publish: QueuedPublish<Item>): Promise<void> {
    // Backpressure: past maxQueuedEvents a publish waits for the batches ahead of it to be written,
    // so a producer faster than the cache cannot make the queue grow without bound. A cache that
    // stops answering fails its write (its own timeout), and the failure rejects the waiters.
    // While a failed write is tried again, a publish waits for the outcome too: resolving it at once
    // would tell the caller its event is on its way when the writes may be failing for good.
    while (this.#failure === undefined && (this.#retrying || this.#unwritten >= this.#options.maxQueuedEvents)) {
      await this.#drain().catch(() => {});
      await this.#writing;
    }
    return this.#accept(publish);
  }

  #accept({ item, urgent }: QueuedPublish<Item>): Promise<void> {
    if (this.#failure !== undefined) {
      return Promise.reject(this.#failure.error);
    }
    this.#unwritten++;
    this.#pending.push(item);
    if (urgent || this.#pending.length >= this.#options.maxBatchEvents) {
      const written = this.#drain();
      return urgent ? written : Promise.resolve();
    }
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => void this.#drain().catch(() => {}), this.#options.batchWindowMs);
    }
    return Promise.resolve();
  }

  /**
   * Resolves once everything accepted so far has been written or has failed, without reporting
   * the failure (that is `flush()`'s): readers in this process then see their own writes.
   */
  async settle(): Promise<void> {
    await this.#drain().catch(() => {});
    await this.#writing.catch(() => {});
  }

  /** Resolves once everything accepted so far is written and sent; rejects with the first failure since the last flush. */
  async flush(): Promise<void> {
    await this.#drain().catch(() => {});
    await this.#writing.catch(() => {});
    const failure = this.#failure;
    this.#failure = undefined;
    if (failure !== undefined) {
      throw failure.error;
    }
  }

  #drain(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const items = this.#pending;
    this.#pending = [];
    const written = this.#writing.then(async () => {
      try {
        if (items.length === 0 || this.#failure !== undefined) {
          if (this.#failure !== undefined && items.length > 0) {
            throw this.#failure.error;
          }
          return;
        }
        await this.#options.write(items, () => {
          this.#retrying = true;
        });
      } catch (error) {
        this.#failure ??= { error };
        throw error;
      } finally {
        this.#retrying = false;
        this.#unwritten -= items.length;
      }
    });
    this.#writing = written.catch(() => {});
    return written;
  }
}
