/** Counters of one Realtime channel. */
export interface RealtimeChannelStats {
  /** Messages published to the channel, over HTTP or by the engine. */
  publishes: number;
  /** UTF-8 bytes of the published bodies (the JSON text of the data for engine publishes). */
  bytes: number;
  /** Frames written to subscriber sockets for this channel. */
  messagesDelivered: number;
}

/** A snapshot of the Realtime counters since the hub started. */
export interface RealtimeStats {
  /** Messages published, over HTTP or by the engine. */
  publishes: number;
  /** UTF-8 bytes of the published bodies. */
  bytes: number;
  /** Frames written to subscriber sockets. */
  messagesDelivered: number;
  /** WebSocket subscriptions open right now. */
  subscriptions: number;
  /**
   * Counters per channel name, least recently published first. Only the most recently published
   * {@link MAX_TRACKED_CHANNELS} channels are kept; the totals above always count everything.
   */
  channels: ReadonlyMap<string, RealtimeChannelStats>;
}

/**
 * How many channels keep their own counters. Channels are often per run (`run:<id>`), so an engine
 * that runs for days would otherwise grow this map without end.
 */
export const MAX_TRACKED_CHANNELS = 10_000;

/** Mutable counters behind {@link RealtimeStats}, with a bounded per-channel map. */
export class RealtimeStatistics {
  #publishes = 0;
  #bytes = 0;
  #messagesDelivered = 0;
  readonly #channels = new Map<string, RealtimeChannelStats>();

  /** Counts one publish of `bytes` bytes to `channel`. */
  recordPublish(channel: string, bytes: number): void {
    this.#publishes += 1;
    this.#bytes += bytes;
    const counters = this.#channels.get(channel) ?? { publishes: 0, bytes: 0, messagesDelivered: 0 };
    // Re-inserting moves the channel to the end, so the first key is always the least recently published.
    this.#channels.delete(channel);
    this.#channels.set(channel, counters);
    counters.publishes += 1;
    counters.bytes += bytes;
    if (this.#channels.size > MAX_TRACKED_CHANNELS) {
      const oldest = this.#channels.keys().next();
      if (!oldest.done) {
        this.#channels.delete(oldest.value);
      }
    }
  }

  /** Counts `count` frames written to subscribers of `channel`. */
  recordDelivered(channel: string, count: number): void {
    this.#messagesDelivered += count;
    const counters = this.#channels.get(channel);
    if (counters) {
      counters.messagesDelivered += count;
    }
  }

  /** A copy of the counters that later publishes do not change. */
  snapshot(subscriptions: number): RealtimeStats {
    const channels = new Map<string, RealtimeChannelStats>();
    for (const [channel, counters] of this.#channels) {
      channels.set(channel, { ...counters });
    }
    return {
      publishes: this.#publishes,
      bytes: this.#bytes,
      messagesDelivered: this.#messagesDelivered,
      subscriptions,
      channels,
    };
  }
}
