import { type Event, EventEmitterPubSub, type PubSub } from "@mastra/core/events";
import { ErrorCode, EVENT_BATCH_KIND, MastraInngestError } from "@mastra/inngest-core";
import { silentLogger, until } from "@mastra/inngest-testing/helpers";
import { afterEach, describe, expect, it } from "vitest";
import { CachingPubSub } from "./caching-pubsub.ts";
import type { CachingPubSubOptions } from "./caching-pubsub-options.ts";
import { InMemoryStreamCache } from "./in-memory-stream-cache.ts";
import { recheckDelayMs } from "./internal/replaying-subscription.ts";

/**
 * @see issue #18, item 8: an observer from offset 2 missed the terminal event (index 61) and never
 * ended. No later event reveals a lost last delivery, so only the re-read of history can find it;
 * these tests lose exactly that delivery and check the observer still ends, soon and once.
 */

const topic = "agent.stream.run-1";
const opened: CachingPubSub[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((pubsub) => pubsub.close()));
});

/** The events a transport message carries (a batch, or one event). */
function carried(message: Event): Array<{ type: string; index?: number }> {
  return message.type === EVENT_BATCH_KIND
    ? (message.data as { events: Array<{ type: string; index?: number }> }).events
    : [message as { type: string; index?: number }];
}

/**
 * A live transport that loses the messages `drop` picks, as a network or a reconnecting connection
 * can, and keeps them for the test to check. Only the `CachingPubSub` on top subscribes to it, so
 * losing a message here loses its delivery.
 */
class LossyPubSub extends EventEmitterPubSub {
  readonly dropped: Event[] = [];
  readonly #drop: (message: Event) => boolean;

  constructor(drop: (message: Event) => boolean) {
    super();
    this.#drop = drop;
  }

  override async publish(topicName: string, event: Omit<Event, "id" | "createdAt">): Promise<void> {
    if (this.#drop(event as Event)) {
      this.dropped.push(event as Event);
      return;
    }
    await super.publish(topicName, event);
  }
}

/** An in-memory cache whose history reads fail while `failReads` is above zero, counting each. */
class UnreadableCache extends InMemoryStreamCache {
  failReads = 0;
  failedReads = 0;

  override async listFromTo(key: string, from: number, to?: number): Promise<unknown[]> {
    if (this.failReads > 0 && key.endsWith(":events")) {
      this.failReads--;
      this.failedReads++;
      throw new Error("cache unreachable");
    }
    return super.listFromTo(key, from, to);
  }
}

function create(transport: PubSub, cache: InMemoryStreamCache, options: CachingPubSubOptions = {}): CachingPubSub {
  const pubsub = new CachingPubSub(transport, cache, { logger: silentLogger, ...options });
  opened.push(pubsub);
  return pubsub;
}

/** Follows a topic as a client does: every event, and when the stream ended. */
function observer(): { events: Event[]; endedAt: number | undefined; callback: (event: Event) => void } {
  const state = {
    events: [] as Event[],
    endedAt: undefined as number | undefined,
    callback: (event: Event) => {
      state.events.push(event);
      if (event.type === "finish") {
        state.endedAt = Date.now();
      }
    },
  };
  return state;
}

const chunk = (index: number) => ({ type: "chunk", runId: "run-1", data: { index } });
const finish = { type: "finish", runId: "run-1", data: {} };
const carriesFinish = (message: Event): boolean => carried(message).some((event) => event.type === "finish");
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, offset) => from + offset);

/** Publishes chunks 0..count-1 and waits until they are stored and sent. */
async function publishChunks(pubsub: CachingPubSub, from: number, to: number): Promise<void> {
  for (const index of range(from, to)) {
    await pubsub.publish(topic, chunk(index));
  }
  await pubsub.flush();
}

describe("a lost live delivery", () => {
  it("of the terminal event, the last one, to an observer from offset 2: found in history once and in order, the observer ending well before idleRecheckMs", async () => {
    const transport = new LossyPubSub(carriesFinish);
    // The default idleRecheckMs (5 s): before the first re-read came after all of it.
    const pubsub = create(transport, new InMemoryStreamCache());
    await publishChunks(pubsub, 0, 3);
    const client = observer();
    await pubsub.subscribeFromOffset(topic, 2, client.callback);
    await publishChunks(pubsub, 3, 61);
    const lostAt = Date.now();
    await pubsub.publish(topic, finish);
    expect(transport.dropped.map((message) => carried(message).map((event) => [event.index, event.type]))).toEqual([
      [[61, "finish"]],
    ]);
    await until(() => client.endedAt, { timeoutMs: 10_000, description: "the observer's end" });
    expect((client.endedAt as number) - lostAt).toBeLessThan(2_000);
    expect(client.events.map((event) => event.index)).toEqual(range(2, 62));
    // Later re-reads find nothing new: the terminal event stays delivered once.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(client.events.filter((event) => event.type === "finish")).toHaveLength(1);
    expect(client.events).toHaveLength(60);
  }, 15_000);

  it("of the terminal event, when the first re-read of history fails: found before a short-lived history expires", async () => {
    const transport = new LossyPubSub(carriesFinish);
    const cache = new UnreadableCache();
    // History of an ended run kept 1.5 s, as a deployment may shorten it; one re-read per second at most.
    const pubsub = create(transport, cache, { idleRecheckMs: 1_000, terminalTtlMs: 1_500 });
    await publishChunks(pubsub, 0, 3);
    const client = observer();
    await pubsub.subscribeFromOffset(topic, 2, client.callback);
    await publishChunks(pubsub, 3, 10);
    cache.failReads = 1;
    await pubsub.publish(topic, finish);
    expect(transport.dropped).toHaveLength(1);
    await until(() => client.endedAt, { timeoutMs: 5_000, description: "the observer's end" });
    expect(cache.failedReads).toBe(1);
    expect(client.events.map((event) => event.index)).toEqual(range(2, 11));
  }, 15_000);

  it("followed by another: found in history at once, the later index revealing the gap", async () => {
    let messages = 0;
    const transport = new LossyPubSub(() => ++messages === 2);
    const pubsub = create(transport, new InMemoryStreamCache(), { batching: false, idleRecheckMs: 0 });
    const client = observer();
    await pubsub.subscribe(topic, client.callback);
    await publishChunks(pubsub, 0, 4);
    await until(() => client.events.length === 4, { timeoutMs: 5_000 });
    expect(transport.dropped.map((message) => carried(message).map((event) => event.index))).toEqual([[1]]);
    expect(client.events.map((event) => event.index)).toEqual([0, 1, 2, 3]);
  });

  it("re-reads soon after the feed goes quiet, then less and less often, up to idleRecheckMs", () => {
    expect([0, 1, 2, 3, 4, 5, 50].map((quiet) => recheckDelayMs(5_000, quiet))).toEqual([
      313, 625, 1_250, 2_500, 5_000, 5_000, 5_000,
    ]);
    expect(recheckDelayMs(8, 0)).toBe(1);
  });
});

describe("a subscription whose history cannot be read", () => {
  it("rejects with a MastraInngestError naming the cause, delivers nothing more, and subscribing again works", async () => {
    const cache = new UnreadableCache();
    const pubsub = create(new EventEmitterPubSub(), cache, { idleRecheckMs: 50 });
    await publishChunks(pubsub, 0, 5);
    const failed = observer();
    cache.failReads = 1;
    await expect(pubsub.subscribeFromOffset(topic, 2, failed.callback)).rejects.toSatisfy(
      (error) =>
        MastraInngestError.isInstance(error, ErrorCode.TRANSPORT_CLOSED) &&
        error.message.includes(topic) &&
        error.message.includes("cache unreachable"),
    );
    expect(cache.failedReads).toBe(1);
    const retried = observer();
    await pubsub.subscribeFromOffset(topic, 2, retried.callback);
    await pubsub.publish(topic, finish);
    await until(() => retried.endedAt, { timeoutMs: 5_000 });
    expect(retried.events.map((event) => event.index)).toEqual([2, 3, 4, 5]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(failed.events).toEqual([]);
  });
});
