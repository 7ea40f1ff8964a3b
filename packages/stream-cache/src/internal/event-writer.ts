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
 * per topic, the topics of a batch at once. Whatever got stored is sent, also when the write failed part way; a failed write is
 * tried again (`writeRetries`), each event stored and sent once however many tries it takes.
 */
export class EventWriter {
  readonly #options: EventWriterOptions;

  constructor(options: EventWriterOptions) {
    this.#options = options;
  }

  /**
   * Stores and sends one batch, each topic's events in order; a failed try is tried again, the
   * topics still failing together, calling `retrying` before each retry. Resolves with the events
   * not stored, each with a `MastraInngestError`: naming the cause once the retries are spent (a
   * topic's events from the first not stored), `LIMIT_EXCEEDED` for those a topic refused over
   * `maxEventsPerTopic`. One topic failing does not keep the others from being stored.
   */
  async write(items: readonly QueuedEvent[], retrying: () => void): Promise<Map<QueuedEvent, MastraInngestError>> {
    const byTopic = new Map<string, QueuedEvent[]>();
    for (const item of items) {
      const group = byTopic.get(item.topic) ?? [];
      group.push(item);
      byTopic.set(item.topic, group);
    }
    const notStored = new Map<QueuedEvent, MastraInngestError>();
    // The ids of each topic's events already sent, so a retry sends only what it adds.
    const sent = new Map<string, Set<string>>();
    let remaining = [...byTopic.keys()];
    for (let failures = 0; remaining.length > 0; ) {
      const failing: string[] = [];
      // Topics are written at once (a pipelined client sends them in one round trip); each
      // topic's events stay in order within its own append.
      await Promise.all(
        remaining.map(async (topic) => {
          const queued = byTopic.get(topic) ?? [];
          const sentHere = sent.get(topic) ?? new Set<string>();
          sent.set(topic, sentHere);
          try {
            const refused = await this.#storeAndSend(
              topic,
              queued.map((item) => item.envelope),
              sentHere,
            );
            if (refused.size > 0) {
              const error = new MastraInngestError(
                `[${packageName}] ${refused.size} event(s) of ${topic} were refused: a topic holds at most ${this.#options.options.maxEventsPerTopic} events (maxEventsPerTopic)`,
                { code: ErrorCode.LIMIT_EXCEEDED },
              );
              for (const item of queued) {
                if (refused.has(item.envelope.id)) {
                  notStored.set(item, error);
                }
              }
            }
          } catch (error) {
            if (failures + 1 <= this.#options.options.writeRetries && isRetryable(error)) {
              failing.push(topic);
              return;
            }
            const unsent = queued.filter((item) => !sentHere.has(item.envelope.id));
            const failure = cacheFailure(
              `could not store and send ${unsent.length} of ${queued.length} event(s) of ${topic} in ${failures + 1} tries`,
              error,
              "They are not stored, nor are their publisher's later events of that topic: its publishes to it are refused until its flush() has reported this",
            );
            for (const item of unsent) {
              notStored.set(item, failure);
            }
          }
        }),
      );
      remaining = failing;
      if (remaining.length > 0) {
        failures++;
        retrying();
        await new Promise((resolve) => setTimeout(resolve, writeRetryDelayMs(failures)));
      }
    }
    return notStored;
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
   * the ids of those the topic refused for its limit. When the store failed part way, what it stored is
   * sent before the failure is thrown: a live subscriber gets it now, not from a later replay.
   */
  async #storeAndSend(topic: string, envelopes: StreamEventEnvelope[], sent: Set<string>): Promise<Set<string>> {
    const { inner, cache } = this.#options;
    // When the cache can announce what it stores on the inner PubSub's channel, storing and
    // sending are one round trip, and this process sends nothing itself.
    const notifyChannel = getNotificationChannel(inner, cache, topic);
    let stored: StreamEventEnvelope[];
    let refused = new Set<string>();
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

/** The events an append stored (markers first, as stored), with their indices, and the ids of those it refused for the limit. */
function storedEvents(
  envelopes: readonly StreamEventEnvelope[],
  outcomes: readonly IndexedAppendOutcome[],
): { stored: StreamEventEnvelope[]; refused: Set<string> } {
  const stored: StreamEventEnvelope[] = [];
  const refused = new Set<string>();
  outcomes.forEach((outcome, position) => {
    if (outcome.status === "appended" || outcome.status === "duplicate") {
      if (outcome.status === "appended" && outcome.marker !== undefined) {
        stored.push(outcome.marker);
      }
      // A duplicate is sent again with its stored index: if the first send was lost with a lost
      // reply, this one delivers it; otherwise subscribers drop it by index.
      stored.push({ ...(envelopes[position] as StreamEventEnvelope), index: outcome.index });
    } else if (outcome.status === "limit") {
      refused.add((envelopes[position] as StreamEventEnvelope).id);
    }
  });
  return { stored, refused };
}
