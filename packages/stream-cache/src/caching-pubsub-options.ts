import { invalidOption as invalidOptionError, type MastraInngestError } from "@mastra/inngest-core";

/** Options of `CachingPubSub`. Durations are in milliseconds, sizes in bytes. */
export interface CachingPubSubOptions {
  /**
   * Prefix of every cache key (see `createKeyLayout` of `@mastra/inngest-core`).
   * @default "mastra:inngest"
   */
  keyPrefix?: string;
  /**
   * Batch publishes by group commit: `publish()` queues and returns; a publish that finds no write
   * in flight starts one at once (with the other publishes of the same tick), and what arrives
   * while a write is in flight goes as the next write when it returns, one append and one message.
   * Off, every publish waits for its own write and send.
   * @default true
   */
  batching?: boolean;
  /**
   * How long a write started while none is in flight waits for more events first. 0 waits for
   * nothing (group commit alone: one round trip of latency at low load, batches at high load);
   * a positive value trades that latency for larger batches at low load.
   * @default 0
   */
  batchWindowMs?: number;
  /**
   * The most events one write carries; more wait for the next write. Under load a write gathers
   * what arrived while the one before it was in flight, over every topic published to, so this
   * bounds how far batches grow (and so a topic's single append).
   * @default 1000
   */
  maxBatchEvents?: number;
  /**
   * The most events accepted by `publish()` and not yet stored; past it `publish()` waits for the
   * batches ahead to be stored (backpressure), so memory stays bounded however fast the producer.
   * A cache that stops answering fails its write, and waiting publishes reject with that error.
   * @default 10_000
   */
  maxQueuedEvents?: number;
  /**
   * How many times a batch whose write to the cache (or send to the inner PubSub) failed is tried
   * again before publishing fails, after 50 ms, 200 ms, 800 ms, then every 2 s. Events carry their
   * deduplication key, so a retry stores and delivers each event once. While a retry is pending,
   * `publish()` waits for its outcome. 0 fails at the first error.
   * @default 3
   */
  writeRetries?: number;
  /**
   * Time to live of a topic's history, refreshed on every append.
   * @default 86_400_000 (24 hours)
   */
  ttlMs?: number;
  /**
   * Time to live after a terminal event (finish, error, abort): long enough for a client to
   * reconnect and read the end, short enough not to keep finished runs around.
   * @default 3_600_000 (1 hour)
   */
  terminalTtlMs?: number;
  /**
   * Time to live after an event with which a run starts to wait for a decision (`suspended`, or
   * the agent's `run-waiting`: see `WAITING_EVENT_TYPES`), so a run waiting for a human keeps its
   * history at least as long as it waits; `retain()` extends it for a known wait.
   * @default 604_800_000 (7 days)
   */
  suspendedTtlMs?: number;
  /**
   * Largest event accepted, as JSON; larger ones are refused with `PAYLOAD_TOO_LARGE`.
   * @default 1_048_576 (1 MiB)
   */
  maxEventBytes?: number;
  /**
   * Most events one topic may hold; further publishes are refused with `LIMIT_EXCEEDED`, except
   * terminal events, so a run over the cap can still end its stream.
   * @default 100_000
   */
  maxEventsPerTopic?: number;
  /**
   * The most events read per range when replaying history. Ranges are also sized to about 256 KiB
   * of JSON (from the events read so far), and once a range comes back full the next two are
   * requested while it is delivered, so memory stays flat however long the history.
   * @default 500
   */
  historyPageSize?: number;
  /**
   * The longest a subscriber that receives nothing waits before it re-reads history past its last
   * index, so a lost live event (the last one above all: no later event reveals the gap) cannot
   * leave it waiting. The first re-read comes after a sixteenth of this, the next ones after twice
   * as long each time, up to this value; a new live event, a delivery or a failed re-read starts over.
   * 0 turns the re-read off.
   * @default 5_000
   */
  idleRecheckMs?: number;
  /**
   * Which topics are cached; `false` passes a topic's events straight to the inner PubSub, with no
   * index, as a `localOnly` publish does.
   * @default every topic
   */
  shouldCache?: (topic: string) => boolean;
  /** Where failures outside any caller's call (a malformed message, a throwing subscriber) are reported. */
  logger?: { warn(message: string, ...details: unknown[]): void };
}

/** The options with every default applied and every value checked. */
export type ResolvedCachingPubSubOptions = Required<Omit<CachingPubSubOptions, "shouldCache" | "logger">> &
  Pick<CachingPubSubOptions, "shouldCache" | "logger">;

/** Applies defaults and rejects out-of-range values with `INVALID_OPTION`, naming the field. */
export function resolveCachingPubSubOptions(options: CachingPubSubOptions): ResolvedCachingPubSubOptions {
  const resolved: ResolvedCachingPubSubOptions = {
    keyPrefix: options.keyPrefix ?? "mastra:inngest",
    batching: options.batching ?? true,
    batchWindowMs: nonNegative("batchWindowMs", options.batchWindowMs ?? 0),
    maxBatchEvents: positive("maxBatchEvents", options.maxBatchEvents ?? 1000),
    maxQueuedEvents: positive("maxQueuedEvents", options.maxQueuedEvents ?? 10_000),
    writeRetries: nonNegative("writeRetries", options.writeRetries ?? 3),
    ttlMs: positive("ttlMs", options.ttlMs ?? 86_400_000),
    terminalTtlMs: positive("terminalTtlMs", options.terminalTtlMs ?? 3_600_000),
    suspendedTtlMs: positive("suspendedTtlMs", options.suspendedTtlMs ?? 604_800_000),
    maxEventBytes: positive("maxEventBytes", options.maxEventBytes ?? 1_048_576),
    maxEventsPerTopic: positive("maxEventsPerTopic", options.maxEventsPerTopic ?? 100_000),
    historyPageSize: positive("historyPageSize", options.historyPageSize ?? 500),
    idleRecheckMs: nonNegative("idleRecheckMs", options.idleRecheckMs ?? 5_000),
  };
  if (options.shouldCache !== undefined) {
    resolved.shouldCache = options.shouldCache;
  }
  if (options.logger !== undefined) {
    resolved.logger = options.logger;
  }
  return resolved;
}

function positive(field: string, value: unknown): number {
  if (Number.isSafeInteger(value) && (value as number) > 0) {
    return value as number;
  }
  throw invalid(field, "a positive integer", value);
}

function nonNegative(field: string, value: unknown): number {
  if (Number.isSafeInteger(value) && (value as number) >= 0) {
    return value as number;
  }
  throw invalid(field, "a non-negative integer", value);
}

function invalid(field: string, expected: string, value: unknown): MastraInngestError {
  return invalidOptionError("@mastra/inngest-stream-cache", field, expected, value);
}
