import type { MastraServerCache } from "@mastra/core/cache";
import type { PubSub } from "@mastra/core/events";
import {
  ATTEMPT_SUPERSEDED_EVENT_TYPE,
  ErrorCode,
  EVENT_BATCH_KIND,
  type EventBatch,
  formatProducerKey,
  fromEnvelope,
  getNotificationChannel,
  type IndexedAppendEntry,
  type IndexedAppendOutcome,
  isTerminalEventType,
  isWaitingEventType,
  type KeyLayout,
  MastraInngestError,
  type StreamEvent,
  type StreamEventEnvelope,
  toEnvelope,
} from "@mastra/inngest-core";
import type { ResolvedCachingPubSubOptions } from "../caching-pubsub-options.ts";
import { cacheFailure, isRetryable } from "./cache-failures.ts";
import { type CacheWriter, IncompleteAppendError } from "./cache-writer.ts";

const packageName = "@mastra/inngest-stream-cache";

/** One accepted publish of a cached topic. */
export interface QueuedEvent {
  topic: string;
  envelope: StreamEventEnvelope;
}

/** What an {@link EventWriter} needs. */
export interface EventWriterOptions {
  inner: PubSub;
  cache: MastraServerCache;
  writer: CacheWriter;
  layout: KeyLayout;
  options: ResolvedCachingPubSubOptions;
}

/** Waits before the retry after `failures` failed tries: 50 ms, 200 ms, 800 ms, then 2 s. */
export function writeRetryDelayMs(failures: number): number {
  return Math.min(50 * 4 ** (failures - 1), 2_000);
}

/**
 * Stores batches of events in the cache and sends what was stored to the inner PubSub, one message
 * per topic. Whatever got stored is sent, also when the write failed part way; a failed write is
 * tried again (`writeRetries`), each event stored and sent once however many tries it takes.
 */
export class EventWriter {
  readonly #options: EventWriterOptions;

  constructor(options: EventWriterOptions) {
    this.#options = options;
  }

  /**
   * Stores and sends one batch, topic by topic, in order. Calls `retrying` before each retry.
   * Rejects with a `MastraInngestError` naming the cause once the retries are spent, and with
   * `LIMIT_EXCEEDED` when a topic refused events over `maxEventsPerTopic` (the rest is stored).
   */
  async write(items: readonly QueuedEvent[], retrying: () => void): Promise<void> {
    const byTopic = new Map<string, StreamEventEnvelope[]>();
    for (const { topic, envelope } of items) {
      const group = byTopic.get(topic) ?? [];
      group.push(envelope);
      byTopic.set(topic, group);
    }
    const refusedTopics: string[] = [];
    let refused = 0;
    for (const [topic, envelopes] of byTopic) {
      // The ids of this batch's events already sent, so a retry sends only what it adds.
      const sent = new Set<string>();
      for (let failures = 0; ; ) {
        try {
          const refusedHere = await this.#storeAndSend(topic, envelopes, sent);
          if (refusedHere > 0) {
            refused += refusedHere;
            refusedTopics.push(topic);
          }
          break;
        } catch (error) {
          failures++;
          if (failures > this.#options.options.writeRetries || !isRetryable(error)) {
            const unsent = envelopes.filter((envelope) => !sent.has(envelope.id)).length;
            throw cacheFailure(
              `could not store and send ${unsent} of ${envelopes.length} event(s) of ${topic} in ${failures} tries`,
              error,
              "They and the events queued after them are not stored; publish() refuses events until flush() has reported this",
            );
          }
          retrying();
          await new Promise((resolve) => setTimeout(resolve, writeRetryDelayMs(failures)));
        }
      }
    }
    if (refused > 0) {
      throw new MastraInngestError(
        `[${packageName}] ${refused} event(s) of ${refusedTopics.join(", ")} were refused: a topic holds at most ${this.#options.options.maxEventsPerTopic} events (maxEventsPerTopic)`,
        { code: ErrorCode.LIMIT_EXCEEDED },
      );
    }
  }

  /** In a process that keeps its own history, numbers received events into it. */
  async record(topic: string, events: readonly StreamEvent[]): Promise<StreamEvent[]> {
    // Markers are the publisher's; this process's cache makes its own when the new attempt arrives.
    const received = events.filter((event) => event.type !== ATTEMPT_SUPERSEDED_EVENT_TYPE);
    const envelopes = received.map((event) => {
      const { index: _index, ...envelope } = toEnvelope(event);
      return envelope;
    });
    const outcomes = await this.#append(topic, envelopes);
    const numbered: StreamEvent[] = [];
    outcomes.forEach((outcome, position) => {
      const event = received[position] as StreamEvent;
      if (outcome.status === "appended" || outcome.status === "duplicate") {
        if (outcome.status === "appended" && outcome.marker !== undefined) {
          numbered.push(fromEnvelope(outcome.marker));
        }
        numbered.push({ ...event, index: outcome.index });
      }
    });
    return numbered;
  }

  /**
   * One try at a topic's events: stores them, then sends those stored and not sent yet; returns
   * how many the topic refused for its limit. When the store failed part way, what it stored is
   * sent before the failure is thrown: a live subscriber gets it now, not from a later replay.
   */
  async #storeAndSend(topic: string, envelopes: StreamEventEnvelope[], sent: Set<string>): Promise<number> {
    const { inner, cache } = this.#options;
    // When the cache can announce what it stores on the inner PubSub's channel, storing and
    // sending are one round trip, and this process sends nothing itself.
    const notifyChannel = getNotificationChannel(inner, cache, topic);
    let stored: StreamEventEnvelope[];
    let refused = 0;
    let failure: { error: unknown } | undefined;
    try {
      ({ stored, refused } = storedEvents(envelopes, await this.#append(topic, envelopes, notifyChannel)));
    } catch (error) {
      if (!(error instanceof IncompleteAppendError)) {
        throw error;
      }
      stored = [...error.stored];
      failure = { error: error.cause };
    }
    const unsent = stored.filter((envelope) => !sent.has(envelope.id));
    if (unsent.length > 0 && notifyChannel === undefined) {
      const batch: EventBatch = { kind: EVENT_BATCH_KIND, version: 1, events: unsent };
      await inner.publish(topic, { type: EVENT_BATCH_KIND, runId: unsent[0]?.runId ?? "", data: batch });
    }
    for (const envelope of unsent) {
      sent.add(envelope.id);
    }
    if (failure !== undefined) {
      throw failure.error;
    }
    return refused;
  }

  #append(topic: string, envelopes: StreamEventEnvelope[], notifyChannel?: string): Promise<IndexedAppendOutcome[]> {
    const { ttlMs, terminalTtlMs, suspendedTtlMs, maxEventsPerTopic } = this.#options.options;
    const terminal = envelopes.some((envelope) => isTerminalEventType(envelope.type));
    const suspended = envelopes.some((envelope) => isWaitingEventType(envelope.type));
    const entries: IndexedAppendEntry[] = envelopes.map((envelope) => {
      const entry: IndexedAppendEntry = {
        value: envelope,
        key: envelope.producer === undefined ? `id:${envelope.id}` : formatProducerKey(envelope.producer),
        exemptFromLimit: isTerminalEventType(envelope.type),
      };
      if (envelope.producer !== undefined) {
        entry.producer = envelope.producer;
      }
      return entry;
    });
    return this.#options.writer.append({
      keys: this.#options.layout.topic(topic),
      entries,
      ttlMs: terminal ? terminalTtlMs : suspended ? Math.max(ttlMs, suspendedTtlMs) : ttlMs,
      maxEvents: maxEventsPerTopic,
      ...(notifyChannel === undefined ? {} : { notifyChannel }),
    });
  }
}

/** The events an append stored (markers first, as stored), with their indices, and how many it refused for the limit. */
function storedEvents(
  envelopes: readonly StreamEventEnvelope[],
  outcomes: readonly IndexedAppendOutcome[],
): { stored: StreamEventEnvelope[]; refused: number } {
  const stored: StreamEventEnvelope[] = [];
  let refused = 0;
  outcomes.forEach((outcome, position) => {
    if (outcome.status === "appended" || outcome.status === "duplicate") {
      if (outcome.status === "appended" && outcome.marker !== undefined) {
        stored.push(outcome.marker);
      }
      // A duplicate is sent again with its stored index: if the first send was lost with a lost
      // reply, this one delivers it; otherwise subscribers drop it by index.
      stored.push({ ...(envelopes[position] as StreamEventEnvelope), index: outcome.index });
    } else if (outcome.status === "limit") {
      refused++;
    }
  });
  return { stored, refused };
}
