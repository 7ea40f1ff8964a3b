import { randomUUID } from "node:crypto";
import type { Event, EventCallback } from "@mastra/core/events";
import { ErrorCode, MastraInngestError, parseRunTopic } from "@mastra/inngest-core";
import type { ResolvedInngestPubSubOptions } from "../inngest-pubsub-options.ts";
import { REALTIME_GAP_EVENT_TYPE, type RealtimeGapData } from "../realtime-gap.ts";
import { deliver, toEvent } from "./delivery.ts";
import { packageName } from "./package-name.ts";
import type { RealtimeConnection } from "./realtime-connection.ts";
import type { RealtimeTransport } from "./realtime-transport.ts";
import { backoffDelay, waitAtMost, withTimeout } from "./timers.ts";

/**
 * How long a replaced WebSocket keeps delivering after its replacement opened, in ms: messages
 * already on their way through the old socket arrive in that time, and the replacement's copies
 * of them are dropped by event id.
 */
const SWAP_GRACE_MS = 100;

/** How long `close()` waits for the WebSockets to finish closing, in ms. */
const CLOSE_WAIT_MS = 1000;

/** The callbacks of one Inngest topic of the channel, and the PubSub topic they subscribed to. */
interface TopicCallbacks {
  topic: string;
  callbacks: Set<EventCallback>;
}

/**
 * One WebSocket and what it carries. `current` delivers; `incoming` is a replacement opening with
 * more topics, which holds messages of topics the current one carries until it takes over;
 * `retired` delivers nothing.
 */
interface Link {
  role: "current" | "incoming" | "retired";
  topics: ReadonlySet<string>;
  connection: RealtimeConnection | undefined;
  endedAt: Date | undefined;
  held: Array<readonly [string, unknown]>;
}

/** What a {@link ChannelSubscription} needs. */
export interface ChannelSubscriptionOptions {
  channel: string;
  transport: RealtimeTransport;
  settings: ResolvedInngestPubSubOptions;
  /** Called once the subscription gave up reconnecting, so its owner forgets it. */
  onLost(subscription: ChannelSubscription): void;
}

/**
 * The subscriptions of one Inngest channel: one WebSocket, whatever the number of topics and
 * callbacks. A topic added later replaces the socket with one carrying every topic, without losing
 * or repeating the messages of the topics already carried. A socket that closes without being
 * asked to is reopened with backoff, and the callbacks of its topics get a `realtime-gap` event.
 * Work that opens sockets runs one job at a time, in order.
 */
export class ChannelSubscription {
  readonly channel: string;
  readonly #options: ChannelSubscriptionOptions;
  readonly #topics = new Map<string, TopicCallbacks>();
  #current: Link | undefined;
  #incoming: Link | undefined;
  /** Ids the current socket delivered while a replacement was opening. */
  #overlapIds: Set<string> | undefined;
  #work: Promise<unknown> = Promise.resolve();
  #closed = false;
  #failure: MastraInngestError | undefined;
  #wake: (() => void) | undefined;

  constructor(options: ChannelSubscriptionOptions) {
    this.channel = options.channel;
    this.#options = options;
  }

  /** Whether no callback is subscribed any more. */
  get isEmpty(): boolean {
    return this.#topics.size === 0;
  }

  /**
   * Adds a callback for an Inngest topic of this channel; resolves once a socket carrying it is
   * open. When that socket replaces another, it resolves before the replacement's grace period:
   * the new topic is delivered from the moment the socket opened, so only later jobs wait for it.
   */
  async add(realtimeTopic: string, topic: string, callback: EventCallback): Promise<void> {
    const entry = this.#topics.get(realtimeTopic) ?? { topic, callbacks: new Set<EventCallback>() };
    const wasSubscribed = entry.callbacks.has(callback);
    entry.callbacks.add(callback);
    this.#topics.set(realtimeTopic, entry);
    let markCovered: () => void = () => {};
    const covered = new Promise<void>((resolve) => {
      markCovered = resolve;
    });
    try {
      await Promise.race([covered, this.#serialize(() => this.#cover(realtimeTopic, markCovered))]);
    } catch (error) {
      if (!wasSubscribed) {
        this.remove(realtimeTopic, callback);
      }
      throw error;
    }
  }

  /** Stops delivering to a callback at once. */
  remove(realtimeTopic: string, callback: EventCallback): void {
    const entry = this.#topics.get(realtimeTopic);
    if (entry?.callbacks.delete(callback) && entry.callbacks.size === 0) {
      this.#topics.delete(realtimeTopic);
    }
  }

  /** Delivers an event to this process's callbacks of a topic, without Inngest. */
  deliverLocally(realtimeTopic: string, event: Event): void {
    const entry = this.#topics.get(realtimeTopic);
    if (entry !== undefined) {
      this.#deliverAll(entry, event);
    }
  }

  /** Closes the sockets and forgets every callback; jobs still queued reject. */
  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    this.#topics.clear();
    this.#wake?.();
    const links = [this.#current, this.#incoming];
    this.#current = undefined;
    this.#incoming = undefined;
    for (const link of links) {
      this.#retire(link);
    }
    const ended = links.flatMap((link) => (link?.connection === undefined ? [] : [link.connection.ended]));
    await waitAtMost(Promise.all(ended), CLOSE_WAIT_MS);
  }

  #serialize<T>(job: () => Promise<T>): Promise<T> {
    const result = this.#work.then(job);
    this.#work = result.catch(() => {});
    return result;
  }

  /** Makes sure a live socket carries `realtimeTopic`. */
  async #cover(realtimeTopic: string, onCovered: () => void): Promise<void> {
    const lost = this.#current;
    if (lost !== undefined && lost.endedAt !== undefined) {
      await this.#reconnect(lost);
    }
    this.#assertUsable();
    const current = this.#current;
    if (!this.#topics.has(realtimeTopic) || current?.topics.has(realtimeTopic) === true) {
      return;
    }
    const topics = new Set(this.#topics.keys());
    if (current === undefined) {
      this.#current = await this.#open(topics, "current");
      return;
    }
    await this.#swap(current, topics, onCovered);
  }

  /** Replaces the current socket with one carrying `topics`, delivering each message once, in order. */
  async #swap(previous: Link, topics: ReadonlySet<string>, onOpen: () => void = () => {}): Promise<void> {
    this.#overlapIds = new Set();
    let incoming: Link;
    try {
      incoming = await this.#open(topics, "incoming");
      // Topics the previous socket does not carry are delivered by the incoming one already.
      onOpen();
      await this.#sleep(SWAP_GRACE_MS);
      this.#assertUsable();
    } catch (error) {
      this.#overlapIds = undefined;
      this.#retire(this.#incoming);
      this.#incoming = undefined;
      throw error;
    }
    const overlap = this.#overlapIds;
    this.#overlapIds = undefined;
    this.#incoming = undefined;
    this.#retire(previous);
    incoming.role = "current";
    this.#current = incoming;
    for (const [realtimeTopic, data] of incoming.held.splice(0)) {
      const id = (data as { id?: unknown } | null)?.id;
      if (typeof id !== "string" || !overlap.has(id)) {
        this.#dispatch(realtimeTopic, data);
      }
    }
    if (previous.endedAt !== undefined) {
      this.#notifyGap(previous.topics, "reconnected", previous.endedAt, 1);
    }
    if (incoming.endedAt !== undefined) {
      void this.#serialize(() => this.#reconnect(incoming)).catch(() => {});
    }
  }

  /** Reopens the socket of `lost` with backoff; gives up after `maxReconnectAttempts`. */
  async #reconnect(lost: Link): Promise<void> {
    if (this.#current !== lost || this.#closed) {
      return;
    }
    const { logger, maxReconnectAttempts } = this.#options.settings;
    const disconnectedAt = lost.endedAt ?? new Date();
    let lastError: unknown;
    for (let attempt = 1; attempt <= maxReconnectAttempts; attempt++) {
      const { reconnectInitialDelayMs, reconnectMaxDelayMs } = this.#options.settings;
      await this.#sleep(backoffDelay(attempt, reconnectInitialDelayMs, reconnectMaxDelayMs));
      if (this.#closed || this.#topics.size === 0) {
        return;
      }
      try {
        const link = await this.#open(new Set(this.#topics.keys()), "current");
        this.#retire(lost);
        this.#current = link;
        logger.warn(`[${packageName}] reopened the WebSocket of channel ${this.channel} (attempt ${attempt})`);
        this.#notifyGap(lost.topics, "reconnected", disconnectedAt, attempt);
        return;
      } catch (error) {
        lastError = error;
        if (this.#closed) {
          return;
        }
      }
    }
    this.#retire(lost);
    this.#current = undefined;
    this.#failure = new MastraInngestError(
      `[${packageName}] the WebSocket of channel ${this.channel} closed and could not be reopened in ${maxReconnectAttempts} attempt(s)`,
      { code: ErrorCode.TRANSPORT_CLOSED, cause: lastError },
    );
    logger.error(this.#failure.message, lastError);
    this.#notifyGap(lost.topics, "lost", disconnectedAt, maxReconnectAttempts);
    this.#topics.clear();
    this.#options.onLost(this);
  }

  async #open(topics: ReadonlySet<string>, role: "current" | "incoming"): Promise<Link> {
    const link: Link = { role, topics, connection: undefined, endedAt: undefined, held: [] };
    if (role === "incoming") {
      this.#incoming = link;
    }
    const { transport, settings } = this.#options;
    let connection: RealtimeConnection;
    try {
      connection = await withTimeout(
        transport.connect(this.channel, [...topics], (realtimeTopic, data) => this.#receive(link, realtimeTopic, data)),
        settings.connectTimeoutMs,
        `the WebSocket to channel ${this.channel} did not open within ${settings.connectTimeoutMs} ms`,
        (late) => late.close(),
      );
    } catch (error) {
      link.role = "retired";
      throw MastraInngestError.isInstance(error)
        ? error
        : new MastraInngestError(`[${packageName}] could not subscribe to channel ${this.channel}`, {
            code: ErrorCode.TRANSPORT_CLOSED,
            cause: error,
          });
    }
    link.connection = connection;
    void connection.ended.then(() => this.#onEnded(link));
    if (this.#closed || link.role === "retired") {
      this.#retire(link);
      this.#assertUsable();
    }
    return link;
  }

  #onEnded(link: Link): void {
    link.endedAt = new Date();
    if (link.role !== "current" || this.#closed) {
      return;
    }
    this.#options.settings.logger.warn(
      `[${packageName}] the WebSocket of channel ${this.channel} closed; reconnecting`,
    );
    void this.#serialize(() => this.#reconnect(link)).catch(() => {});
  }

  #receive(link: Link, realtimeTopic: string, data: unknown): void {
    if (link.role === "retired") {
      return;
    }
    if (link.role === "incoming" && this.#current?.topics.has(realtimeTopic) === true) {
      link.held.push([realtimeTopic, data]);
      return;
    }
    if (link.role === "current" && this.#overlapIds !== undefined) {
      const id = (data as { id?: unknown } | null)?.id;
      if (typeof id === "string") {
        this.#overlapIds.add(id);
      }
    }
    this.#dispatch(realtimeTopic, data);
  }

  #dispatch(realtimeTopic: string, data: unknown): void {
    const entry = this.#topics.get(realtimeTopic);
    if (entry === undefined) {
      return;
    }
    const event = toEvent(data);
    if (event === undefined) {
      this.#options.settings.logger.warn(`[${packageName}] dropped a message on ${entry.topic} that is not an event`);
      return;
    }
    this.#deliverAll(entry, event);
  }

  #deliverAll(entry: TopicCallbacks, event: Event): void {
    for (const callback of [...entry.callbacks]) {
      deliver(callback, { ...event }, entry.topic, this.#options.settings.logger);
    }
  }

  #notifyGap(realtimeTopics: ReadonlySet<string>, reason: RealtimeGapData["reason"], at: Date, attempts: number): void {
    for (const realtimeTopic of realtimeTopics) {
      const entry = this.#topics.get(realtimeTopic);
      if (entry === undefined) {
        continue;
      }
      const data: RealtimeGapData = { topic: entry.topic, reason, disconnectedAt: at.toISOString(), attempts };
      this.#deliverAll(entry, {
        type: REALTIME_GAP_EVENT_TYPE,
        id: `${REALTIME_GAP_EVENT_TYPE}:${randomUUID()}`,
        runId: parseRunTopic(entry.topic)?.runId ?? "",
        data,
        createdAt: new Date(),
      });
    }
  }

  #retire(link: Link | undefined): void {
    if (link === undefined || link.role === "retired") {
      return;
    }
    link.role = "retired";
    link.held.length = 0;
    link.connection?.close();
  }

  #assertUsable(): void {
    if (this.#failure !== undefined) {
      throw this.#failure;
    }
    if (this.#closed) {
      throw new MastraInngestError(
        `[${packageName}] the subscription to channel ${this.channel} was closed before its WebSocket opened`,
        { code: ErrorCode.TRANSPORT_CLOSED },
      );
    }
  }

  /** Waits `ms`, or less when `close()` is called meanwhile. */
  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }
}
