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
  /** Resolve or reject the publish with its own event's write, and start a write at once even with a linger. */
  urgent: boolean;
}

/** What a {@link PublishQueue} needs. */
export interface PublishQueueOptions<Item> {
  /**
   * How long a batch started while no write is in flight waits for more events, in ms. 0 (group
   * commit) starts it once the publishes of the current tick are in, without a timer.
   */
  batchWindowMs: number;
  /** The most events one write carries; the rest go in the writes after it. */
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

/** An accepted publish with its place in the queue and, when urgent, how to settle its promise. */
interface Accepted<Item> extends QueuedPublish<Item> {
  settle?: (failure: { error: unknown } | undefined) => void;
}

/**
 * Orders publishes and writes them by group commit, one write at a time: a publish that finds no
 * write in flight starts one (with the other publishes of the same tick); publishes that arrive
 * while a write is in flight gather and go together as the next write when it returns (at most
 * `maxBatchEvents` a write). Low load gets one round trip of latency, high load gets batches, and
 * no timer sits on the path. `enqueue` returns without waiting for the network (unless
 * `maxQueuedEvents` are already waiting, or a write is being tried again after a failure), and an
 * urgent publish resolves or rejects with its own event's write. An event not stored for good is a
 * failure of its owner's topic (see {@link PublishOwner}): `flush(owner)` reports the owner's
 * failures, `flush()` the first failure of anyone's since the last `flush()` (and clears those of
 * {@link shared}).
 */
export class PublishQueue<Item extends { topic: string }> {
  /** The owner of the publishes made without an owner of their own. */
  readonly shared: PublishOwner = new PublishOwner();
  readonly #options: PublishQueueOptions<Item>;
  #pending: Array<Accepted<Item>> = [];
  /** The write loop, while one runs: it takes what gathered each time a write returns. */
  #writing: Promise<void> | undefined;
  /** A start of the write loop waiting for the end of the tick or for the linger. */
  #startScheduled = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The first failure since the last `flush()`, whoever's events it lost. */
  #unreported: { error: unknown } | undefined;
  /** Whether the batch being written failed once and is being tried again. */
  #retrying = false;
  /** Events accepted and not yet written (pending or in a batch being written). */
  #unwritten = 0;
  /** Publishes accepted so far, and publishes written or failed so far (always a prefix of those accepted). */
  #accepted = 0;
  #done = 0;
  /** Who waits until `#done` reaches `until`. */
  #waiters: Array<{ until: number; resolve: () => void }> = [];
  /** Publishes held back by backpressure, in order, from `#heldHead` on. */
  #held: Array<() => void> = [];
  #heldHead = 0;
  /** Publishes let through and not yet accepted. */
  #released = 0;

  constructor(options: PublishQueueOptions<Item>) {
    this.#options = options;
  }

  /** Accepts a publish; see the class description for when the promise settles. */
  async enqueue(publish: QueuedPublish<Item>): Promise<void> {
    const { owner, item } = publish;
    // Backpressure: past maxQueuedEvents a publish waits for the writes ahead of it, so a producer
    // faster than the cache cannot make the queue grow without bound. A cache that stops answering
    // fails its write (its own timeout), and the failure rejects the waiters. While a failed write
    // is tried again, a publish waits for the outcome too: resolving it at once would tell the
    // caller its event is on its way when the writes may be failing for good.
    // Publishes held back wait in line and are let through in their order as writes make room (a
    // publish arriving meanwhile queues behind them), so waking them costs nothing per waiter.
    if (owner.failureOf(item.topic) === undefined && (this.#mustWait() || this.#inLine())) {
      this.#startNow();
      await new Promise<void>((resolve) => this.#held.push(resolve));
      this.#released--;
    }
    return this.#accept(publish);
  }

  #mustWait(): boolean {
    return this.#retrying || this.#unwritten >= this.#options.maxQueuedEvents;
  }

  /** Whether publishes are held back, or let through and not yet accepted. */
  #inLine(): boolean {
    return this.#held.length > this.#heldHead || this.#released > 0;
  }

  /** Lets held-back publishes through, oldest first, as many as there is room for. */
  #releaseHeld(): void {
    let room = this.#retrying ? 0 : this.#options.maxQueuedEvents - this.#unwritten - this.#released;
    while (room > 0 && this.#heldHead < this.#held.length) {
      const release = this.#held[this.#heldHead] as () => void;
      this.#heldHead++;
      this.#released++;
      room--;
      release();
    }
    if (this.#heldHead === this.#held.length) {
      this.#held = [];
      this.#heldHead = 0;
    }
  }

  #accept(publish: QueuedPublish<Item>): Promise<void> {
    const failure = publish.owner.failureOf(publish.item.topic);
    if (failure !== undefined) {
      return Promise.reject(failure.error);
    }
    this.#unwritten++;
    this.#accepted++;
    const accepted: Accepted<Item> = { ...publish };
    const written = publish.urgent
      ? new Promise<void>((resolve, reject) => {
          accepted.settle = (failed) => (failed === undefined ? resolve() : reject(failed.error));
        })
      : Promise.resolve();
    this.#pending.push(accepted);
    if (publish.urgent || this.#options.batchWindowMs === 0) {
      this.#startAtEndOfTick();
    } else {
      this.#timer ??= setTimeout(() => this.#startNow(), this.#options.batchWindowMs);
    }
    return written;
  }

  /**
   * Resolves once everything accepted so far has been written or has failed, without reporting
   * a failure (that is `flush()`'s): readers in this process then see their own writes.
   */
  async settle(): Promise<void> {
    const until = this.#accepted;
    this.#startNow();
    await this.#written(until);
  }

  /**
   * Resolves once everything accepted so far has been written or has failed. With `owner`: rejects
   * with the oldest of the owner's failures not yet reported, and forgets them. Without: rejects
   * with the first failure of anyone's since the last such `flush()`, and forgets those of
   * {@link shared}; other owners' failures stay theirs to report.
   */
  async flush(owner?: PublishOwner): Promise<void> {
    await this.settle();
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

  /** Starts the write loop once the current tick's publishes are in (a microtask: no timer). */
  #startAtEndOfTick(): void {
    if (this.#writing !== undefined || this.#startScheduled) {
      return;
    }
    this.#startScheduled = true;
    queueMicrotask(() => this.#startNow());
  }

  /** Starts the write loop now, unless it runs already (it takes what is pending when its write returns). */
  #startNow(): void {
    this.#startScheduled = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#writing !== undefined || this.#pending.length === 0) {
      return;
    }
    this.#writing = this.#writeAll();
  }

  /** Writes batches while publishes are pending: each gathered while the write before it was in flight. */
  async #writeAll(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0, this.#options.maxBatchEvents);
        await this.#write(batch);
      }
    } finally {
      // In the same turn as the last check of #pending: a publish after it finds no write in
      // flight and starts one.
      this.#writing = undefined;
    }
  }

  /** Resolves once the first `until` publishes accepted have been written or have failed. */
  #written(until: number): Promise<void> {
    if (this.#done >= Math.min(until, this.#accepted)) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push({ until, resolve }));
  }

  async #write(batch: Array<Accepted<Item>>): Promise<void> {
    const failed = new Map<Accepted<Item>, unknown>();
    try {
      const writable: Array<Accepted<Item>> = [];
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
      this.#done += batch.length;
      for (const publish of batch) {
        publish.settle?.(failed.has(publish) ? { error: failed.get(publish) } : undefined);
      }
      this.#releaseHeld();
      const waiting = this.#waiters;
      this.#waiters = [];
      for (const waiter of waiting) {
        if (this.#done >= waiter.until) {
          waiter.resolve();
        } else {
          this.#waiters.push(waiter);
        }
      }
    }
  }
}
