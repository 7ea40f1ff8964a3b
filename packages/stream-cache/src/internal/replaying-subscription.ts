import type { EventCallback } from "@mastra/core/events";
import {
  ATTEMPT_SUPERSEDED_EVENT_TYPE,
  type AttemptSupersededData,
  isTerminalEventType,
  OFFSET_EXPIRED_EVENT_TYPE,
  type OffsetExpiredData,
  parseRunTopic,
  type StreamEvent,
  type TopicKeys,
} from "@mastra/inngest-core";
import type { HistoryReader } from "./history-reader.ts";

/** Where a subscription starts: an index, or the tail. */
export type SubscriptionStart = number | "latest";

/** What a subscription is doing, for diagnostics: see `CachingPubSub.inspect()`. */
export interface SubscriptionState {
  /** The next index it will deliver. */
  nextIndex: number;
  /** Whether its history was read (it follows the live feed). */
  bootstrapped: boolean;
  /** Whether it delivered its topic's terminal event. */
  ended: boolean;
  /** Whether it was closed (unsubscribed). */
  closed: boolean;
  /** Live events received and not delivered yet. */
  pendingEvents: number;
  /** Deliveries, fills and re-reads queued or running. */
  queuedWork: number;
  /** How long the work running now has run, in ms, when some runs. */
  busyForMs: number | undefined;
  /** Milliseconds since its last delivery, or since it started when none. */
  idleForMs: number;
  /** When the next re-read of history is due, in ms from now, when one is set. */
  nextRecheckInMs: number | undefined;
  /** Re-reads that found nothing since the last delivery. */
  quietRechecks: number;
}

/** What a {@link ReplayingSubscription} needs. */
export interface ReplayingSubscriptionOptions {
  topic: string;
  keys: TopicKeys;
  callback: EventCallback;
  start: SubscriptionStart;
  reader: HistoryReader;
  /** The longest wait without a delivery before history is re-read, in ms; 0 turns the re-read off. */
  idleRecheckMs: number;
  onError(message: string, error: unknown): void;
}

/** How many re-reads, each after twice the wait of the one before, lead up to `idleRecheckMs`. */
const quickRechecks = 4;

/**
 * The wait before the next re-read of history, after `quiet` re-reads found nothing since the last
 * delivery: `idleRecheckMs` / 16, / 8, / 4, / 2, then `idleRecheckMs`. The last live message of a
 * stream has no later one to reveal that it was lost, so only a re-read finds it: the first comes
 * soon after the feed goes quiet, and a long wait (a run waiting for a human) still costs one read
 * per `idleRecheckMs`.
 */
export function recheckDelayMs(idleRecheckMs: number, quiet: number): number {
  return Math.max(1, Math.round(idleRecheckMs / 2 ** Math.max(0, quickRechecks - quiet)));
}

/**
 * One subscriber's view of a topic: history from its offset in pages, then live events, each index
 * delivered once and in order. Live events that arrive while history is read are buffered; a live
 * index that jumps ahead makes it read the gap from history first; events of a superseded attempt
 * are never delivered, and a subscriber that already got some of them gets a notice; and when
 * nothing arrives for a while it re-reads history, so a lost live terminal event still ends it.
 */
export class ReplayingSubscription {
  readonly callback: EventCallback;
  readonly #options: ReplayingSubscriptionOptions;
  readonly #pending: StreamEvent[] = [];
  /** The length of `#pending` when it was last left sorted; any other length means events arrived since. */
  #pendingSorted = 0;
  readonly #knownAttempts = new Map<string, number>();
  /** Per step, the oldest attempt this subscription delivered events of. */
  readonly #deliveredAttempts = new Map<string, number>();
  readonly #startedMidStream: boolean;
  #nextIndex = 0;
  #bootstrapped = false;
  #closed = false;
  #ended = false;
  #work: Promise<void> = Promise.resolve();
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  /** Re-reads of history since the last delivery or new live event (or the last failed re-read). */
  #quietRechecks = 0;
  /** When the next re-read is due, on `performance.now()`'s clock. */
  #recheckDueAt = 0;
  /** When the timer set now fires, on the same clock. */
  #armedFor = 0;
  #queuedWork = 0;
  /** When the work running now started, on the same clock. */
  #busySince: number | undefined;
  #lastDeliveryAt = performance.now();

  constructor(options: ReplayingSubscriptionOptions) {
    this.#options = options;
    this.callback = options.callback;
    this.#startedMidStream = options.start === "latest" || options.start > 0;
  }

  /** The next index this subscription will deliver. */
  get nextIndex(): number {
    return this.#nextIndex;
  }

  /**
   * Delivers history from the start offset, then the live events buffered meanwhile. Rejects when
   * the history cannot be read: such a subscription would never deliver anything.
   */
  async start(): Promise<void> {
    let failure: { error: unknown } | undefined;
    await this.#serialized(async () => {
      try {
        await this.#bootstrap();
      } catch (error) {
        failure = { error };
      }
    });
    if (failure !== undefined) {
      this.close();
      throw failure.error;
    }
    // The live events buffered meanwhile; a failure to fill a gap before them is reported, and the
    // re-read of history recovers what it missed.
    await this.#serialized(() => this.#drain());
    this.#restartRechecks();
  }

  /** What it is doing now, for diagnostics. */
  state(): SubscriptionState {
    const now = performance.now();
    return {
      nextIndex: this.#nextIndex,
      bootstrapped: this.#bootstrapped,
      ended: this.#ended,
      closed: this.#closed,
      pendingEvents: this.#pending.length,
      queuedWork: this.#queuedWork,
      busyForMs: this.#busySince === undefined ? undefined : Math.round(now - this.#busySince),
      idleForMs: Math.round(now - this.#lastDeliveryAt),
      nextRecheckInMs: this.#watchdog === undefined ? undefined : Math.max(0, Math.round(this.#recheckDueAt - now)),
      quietRechecks: this.#quietRechecks,
    };
  }

  /** Takes live events from the topic feed. */
  receive(events: readonly StreamEvent[]): void {
    if (this.#closed) {
      return;
    }
    this.#pending.push(...events);
    if (this.#bootstrapped) {
      // A live feed that brings new events is not quiet: re-reading history now would only fetch
      // what is already arriving (repeats, which carry nothing new, do not count).
      if (events.some((event) => event.index === undefined || event.index >= this.#nextIndex)) {
        this.#restartRechecks();
      }
      void this.#serialized(() => this.#drain());
    }
  }

  /** Stops delivering. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#watchdog);
    this.#pending.length = 0;
  }

  #serialized(work: () => Promise<void>): Promise<void> {
    this.#queuedWork++;
    const next = this.#work
      .then(() => {
        this.#busySince = performance.now();
        return work();
      })
      .catch((error: unknown) => {
        this.#options.onError(`subscription to ${this.#options.topic} failed while delivering`, error);
      })
      .finally(() => {
        this.#queuedWork--;
        this.#busySince = undefined;
      });
    this.#work = next;
    return next;
  }

  async #bootstrap(): Promise<void> {
    const { reader, keys, start } = this.#options;
    for (const [stepId, attempt] of await reader.attempts(keys)) {
      this.#knownAttempts.set(stepId, attempt);
    }
    if (start === "latest") {
      const last = await reader.lastIndex(keys);
      this.#nextIndex = last === undefined ? await reader.allocated(keys) : last + 1;
    } else {
      this.#nextIndex = start;
      const first = await reader.firstIndex(keys);
      if (first !== undefined && first > start) {
        await this.#notifyExpired(start, first);
      } else if (first === undefined && start > 0) {
        const allocated = await reader.allocated(keys);
        // Nothing stored: either the history expired or was cleared (notice), or the offset is past
        // the end of a topic that has not started (wait).
        if (allocated === 0 || start < allocated) {
          await this.#notifyExpired(start, allocated);
        }
      }
      await this.#fill(undefined);
    }
    this.#bootstrapped = true;
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0 && !this.#closed) {
      // Sorted newest first, so the next event comes off the end (no shift of the whole buffer);
      // sorted again only when events arrived since (they are appended at the end).
      if (this.#pendingSorted !== this.#pending.length) {
        this.#pending.sort((left, right) => (right.index ?? -1) - (left.index ?? -1));
      }
      const event = this.#pending.pop() as StreamEvent;
      this.#pendingSorted = this.#pending.length;
      if (event.index === undefined) {
        await this.#invoke(event);
        continue;
      }
      if (event.index < this.#nextIndex) {
        continue;
      }
      if (event.index > this.#nextIndex) {
        await this.#fill(event.index);
        if (event.index > this.#nextIndex) {
          // The gap is not in history either (trimmed or expired): say so, then go on.
          await this.#notifyExpired(this.#nextIndex, event.index);
        }
      }
      await this.#deliver(event);
    }
  }

  async #fill(untilIndex: number | undefined): Promise<void> {
    const { reader, keys } = this.#options;
    for await (const page of reader.pages(keys, this.#nextIndex, untilIndex)) {
      for (const event of page) {
        if (this.#closed) {
          return;
        }
        if ((event.index ?? -1) >= this.#nextIndex) {
          // Awaited only when the callback returned a promise (its backpressure): a replay of
          // 100,000 events does not take three turns of the microtask queue for each.
          const delivering = this.#deliver(event);
          if (delivering !== undefined) {
            await delivering;
          }
        }
      }
    }
  }

  /** Delivers an event unless superseded; returns a promise only when the callback returned one. */
  #deliver(event: StreamEvent): Promise<void> | undefined {
    if (event.index !== undefined) {
      this.#nextIndex = event.index + 1;
    }
    if (event.type === ATTEMPT_SUPERSEDED_EVENT_TYPE) {
      const data = event.data as AttemptSupersededData;
      this.#knownAttempts.set(data.stepId, Math.max(this.#knownAttempts.get(data.stepId) ?? -1, data.attempt));
      const oldest = this.#deliveredAttempts.get(data.stepId);
      this.#deliveredAttempts.delete(data.stepId);
      if ((oldest !== undefined && oldest < data.attempt) || this.#startedMidStream) {
        return this.#invoke(event);
      }
      return undefined;
    }
    const producer = event.producer;
    if (producer !== undefined) {
      const known = this.#knownAttempts.get(producer.stepId);
      if (known !== undefined && producer.attempt < known) {
        return undefined;
      }
      this.#knownAttempts.set(producer.stepId, Math.max(known ?? -1, producer.attempt));
      if (!this.#deliveredAttempts.has(producer.stepId)) {
        this.#deliveredAttempts.set(producer.stepId, producer.attempt);
      }
    }
    const invoked = this.#invoke(event);
    if (!isTerminalEventType(event.type)) {
      return invoked;
    }
    return invoked === undefined ? this.#end() : invoked.then(() => this.#end());
  }

  /** After the terminal event: nothing follows, so history is not re-read any more. */
  #end(): undefined {
    this.#ended = true;
    clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
    return undefined;
  }

  /** Calls the subscriber; returns a promise only when it returned one. A throw is reported, not passed on. */
  #invoke(event: StreamEvent): Promise<void> | undefined {
    if (this.#closed) {
      return undefined;
    }
    this.#lastDeliveryAt = performance.now();
    this.#restartRechecks();
    try {
      const result: unknown = this.callback(event);
      if (typeof (result as PromiseLike<void> | undefined)?.then === "function") {
        return Promise.resolve(result as PromiseLike<void>).then(undefined, (error: unknown) => this.#threw(error));
      }
    } catch (error) {
      this.#threw(error);
    }
    return undefined;
  }

  #threw(error: unknown): void {
    this.#options.onError(`a subscriber of ${this.#options.topic} threw`, error);
  }

  async #notifyExpired(requestedOffset: number, firstAvailableOffset: number): Promise<void> {
    const data: OffsetExpiredData = { requestedOffset, firstAvailableOffset };
    this.#nextIndex = Math.max(this.#nextIndex, firstAvailableOffset);
    await this.#invoke({
      type: OFFSET_EXPIRED_EVENT_TYPE,
      id: `offset-expired:${requestedOffset}:${firstAvailableOffset}`,
      runId: parseRunTopic(this.#options.topic)?.runId ?? "",
      data,
      createdAt: new Date(),
    });
  }

  /** After a delivery, a new live event or a failed re-read: the next re-read comes soon again. */
  #restartRechecks(): void {
    this.#quietRechecks = 0;
    this.#recheckDueAt = performance.now() + recheckDelayMs(this.#options.idleRecheckMs, 0);
    this.#arm();
  }

  /** After a re-read: the next one comes after the wait for as many quiet re-reads. */
  #scheduleRecheck(): void {
    this.#recheckDueAt = performance.now() + recheckDelayMs(this.#options.idleRecheckMs, this.#quietRechecks);
    this.#arm();
  }

  /**
   * Sets the timer for the re-read due. A replay delivers thousands of events a millisecond, each
   * pushing the due time on: a timer that fires no later than due is kept, and when it fires early
   * it sets itself again for the rest, so there is no timer per event.
   */
  #arm(): void {
    if (!this.#bootstrapped || this.#ended || this.#closed || this.#options.idleRecheckMs <= 0) {
      clearTimeout(this.#watchdog);
      this.#watchdog = undefined;
      return;
    }
    if (this.#watchdog !== undefined && this.#armedFor <= this.#recheckDueAt) {
      return;
    }
    clearTimeout(this.#watchdog);
    this.#armedFor = this.#recheckDueAt;
    this.#watchdog = setTimeout(() => this.#onTimer(), Math.max(1, this.#recheckDueAt - performance.now()));
    this.#watchdog.unref?.();
  }

  #onTimer(): void {
    this.#watchdog = undefined;
    if (this.#recheckDueAt - performance.now() > 0.5) {
      this.#arm();
      return;
    }
    void this.#serialized(() => this.#recheck()).then(() => this.#scheduleRecheck());
  }

  async #recheck(): Promise<void> {
    // Deliveries during the re-read restart the count.
    this.#quietRechecks++;
    try {
      await this.#fill(undefined);
      await this.#drain();
    } catch (error) {
      // A re-read that failed (the cache unreachable for a moment) is tried again soon, not a whole
      // idleRecheckMs later: what it was looking for may expire meanwhile.
      this.#quietRechecks = 0;
      throw error;
    }
  }
}
