/** Keeps at most this many topics' failures per owner; the oldest is forgotten past it. */
export const failedTopicLimit = 10_000;

/**
 * Whose publishes these are: a write that fails for good is recorded for the owners of the events
 * it did not store, one failure per topic, and reported to them by their own flush. An owner's
 * later events of a failed topic are refused (and, if already accepted, not written) until then,
 * so nothing of theirs is stored with a gap behind it.
 */
export class PublishOwner {
  /** The first failure of each topic not yet reported, oldest first. */
  readonly #failures = new Map<string, { error: unknown }>();

  /** The failure not yet reported of this owner's events of `topic`. */
  failureOf(topic: string): { error: unknown } | undefined {
    return this.#failures.get(topic);
  }

  /** Records that events of `topic` were not stored; the first failure of a topic is kept. */
  record(topic: string, error: unknown): void {
    if (this.#failures.has(topic)) {
      return;
    }
    this.#failures.set(topic, { error });
    if (this.#failures.size > failedTopicLimit) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) {
        this.#failures.delete(oldest);
      }
    }
  }

  /** Returns the oldest failure not yet reported, if any, and forgets them all: they are reported. */
  take(): { error: unknown } | undefined {
    const first = this.#failures.values().next().value;
    this.#failures.clear();
    return first;
  }

  /** Forgets the failure of `topic` (its history is gone, so nothing can follow a gap). */
  forget(topic: string): void {
    this.#failures.delete(topic);
  }
}

/** One accepted publish, waiting to be written and sent. */
export interface QueuedPublish<Item> {
  item: Item;
  owner: PublishOwner;
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
   * Writes and sends one batch, in order within each topic; resolves with the items it did not
   * store (by identity), each with its error. Calls `retrying` when a try failed and it is about
   * to try again.
   */
  write(items: Item[], retrying: () => void): Promise<ReadonlyMap<Item, unknown>>;
}

/**
 * Orders publishes and writes them in batches, one batch at a time: `enqueue` returns without
 * waiting for the network (unless `maxQueuedEvents` are already waiting, or a write is being tried
 * again after a failure), and an urgent publish resolves or rejects with its own event's write.
 * An event not stored for good is a failure of its owner's topic (see {@link PublishOwner}):
 * `flush(owner)` reports the owner's failures, `flush()` the first failure of anyone's since the
 * last `flush()` (and clears those of {@link shared}).
 */
export class PublishQueue<Item extends { topic: string }> {
  /** The owner of the publishes made without an owner of their own. */
  readonly shared: PublishOwner = new PublishOwner();
  readonly #options: PublishQueueOptions<Item>;
  #pending: Array<QueuedPublish<Item>> = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<unknown> = Promise.resolve();
  /** The first failure since the last `flush()`, whoever's events it lost. */
  #unreported: { error: unknown } | undefined;
  /** Whether the batch being written failed once and is being tried again. */
  #retrying = false;
  /** Events accepted and not yet written (pending or in a batch being written). */
  #unwritten = 0;

  constructor(options: PublishQueueOptions<Item>) {
    this.#options = options;
  }

  /** Accepts a publish; see the class description for when the promise settles. */
  async enqueue(publish: QueuedPublish<Item>): Promise<void> {
    const { owner, item } = publish;
    // Backpressure: past maxQueuedEvents a publish waits for the batches ahead of it to be written,
    // so a producer faster than the cache cannot make the queue grow without bound. A cache that
    // stops answering fails its write (its own timeout), and the failure rejects the waiters.
    // While a failed write is tried again, a publish waits for the outcome too: resolving it at once
    // would tell the caller its event is on its way when the writes may be failing for good.
    while (
      owner.failureOf(item.topic) === undefined &&
      (this.#retrying || this.#unwritten >= this.#options.maxQueuedEvents)
    ) {
      await this.#drain();
    }
    return this.#accept(publish);
  }

  #accept(publish: QueuedPublish<Item>): Promise<void> {
    const failure = publish.owner.failureOf(publish.item.topic);
    if (failure !== undefined) {
      return Promise.reject(failure.error);
    }
    this.#unwritten++;
    this.#pending.push(publish);
    if (publish.urgent || this.#pending.length >= this.#options.maxBatchEvents) {
      const written = this.#drain();
      return publish.urgent ? written.then((failed) => rejectIfFailed(failed, publish)) : Promise.resolve();
    }
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => void this.#drain(), this.#options.batchWindowMs);
    }
    return Promise.resolve();
  }

  /**
   * Resolves once everything accepted so far has been written or has failed, without reporting
   * a failure (that is `flush()`'s): readers in this process then see their own writes.
   */
  async settle(): Promise<void> {
    await this.#drain();
  }

  /**
   * Resolves once everything accepted so far has been written or has failed. With `owner`: rejects
   * with the oldest of the owner's failures not yet reported, and forgets them. Without: rejects
   * with the first failure of anyone's since the last such `flush()`, and forgets those of
   * {@link shared}; other owners' failures stay theirs to report.
   */
  async flush(owner?: PublishOwner): Promise<void> {
    await this.#drain();
    let failure: { error: unknown } | undefined;
    if (owner === undefined) {
      failure = this.#unreported;
      this.#unreported = undefined;
      this.shared.take();
    } else {
      failure = owner.take();
    }
    if (failure !== undefined) {
      throw failure.error;
    }
  }

  /** Writes what is pending after the writes ahead; resolves with the publishes not stored. */
  #drain(): Promise<ReadonlyMap<QueuedPublish<Item>, unknown>> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    const written = this.#writing.then(() => this.#write(batch));
    this.#writing = written.catch(() => {});
    return written;
  }

  async #write(batch: Array<QueuedPublish<Item>>): Promise<ReadonlyMap<QueuedPublish<Item>, unknown>> {
    const failed = new Map<QueuedPublish<Item>, unknown>();
    try {
      const writable: Array<QueuedPublish<Item>> = [];
      for (const publish of batch) {
        // Accepted before its owner's earlier events of the topic failed: writing it would leave a gap.
        const failure = publish.owner.failureOf(publish.item.topic);
        if (failure === undefined) {
          writable.push(publish);
        } else {
          failed.set(publish, failure.error);
        }
      }
      if (writable.length > 0) {
        let notStored: ReadonlyMap<Item, unknown>;
        try {
          notStored = await this.#options.write(
            writable.map((publish) => publish.item),
            () => {
              this.#retrying = true;
            },
          );
        } catch (error) {
          notStored = new Map(writable.map((publish) => [publish.item, error]));
        }
        for (const publish of writable) {
          if (notStored.has(publish.item)) {
            const error = notStored.get(publish.item);
            publish.owner.record(publish.item.topic, error);
            failed.set(publish, error);
          }
        }
      }
      const [first] = failed.values();
      if (failed.size > 0) {
        this.#unreported ??= { error: first };
      }
    } finally {
      this.#retrying = false;
      this.#unwritten -= batch.length;
    }
    return failed;
  }
}

function rejectIfFailed<Item>(failed: ReadonlyMap<QueuedPublish<Item>, unknown>, publish: QueuedPublish<Item>): void {
  if (failed.has(publish)) {
    throw failed.get(publish);
  }
}
