import { InMemoryServerCache, type MastraServerCache } from "@mastra/core/cache";
import { type Event, EventEmitterPubSub } from "@mastra/core/events";
import { ErrorCode, EVENT_BATCH_KIND, MastraInngestError } from "@mastra/inngest-core";
import { silentLogger, until } from "@mastra/inngest-testing/helpers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CachingPubSub } from "./caching-pubsub.ts";
import type { CachingPubSubOptions } from "./caching-pubsub-options.ts";
import { InMemoryStreamCache } from "./in-memory-stream-cache.ts";

/**
 * @see issue #18, item 9: a cache write that fails in the middle of a batch. What was stored is
 * delivered live, a failed write is tried again without storing or sending anything twice, and
 * once the writes fail for good no publish resolves as if its event were stored.
 */

const topic = "agent.stream.run-1";
const opened: CachingPubSub[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((pubsub) => pubsub.close().catch(() => {})));
});

/** What a failing push does: throw before storing, or store and then throw (a lost reply). */
type Fault = "refuse" | "lose-reply";

/**
 * `@mastra/core`'s plain cache, which `CachingPubSub` writes one event at a time (it has no atomic
 * batch append): so a failing push falls in the middle of a batch. `failAt` chooses which pushes
 * fail (by their 1-based number, and the list they push to); `failures` counts the faults that
 * really happened.
 */
class FlakyPlainCache extends InMemoryServerCache {
  pushes = 0;
  failures = 0;
  failAt: (push: number, listKey: string) => Fault | undefined = () => undefined;

  override async listPushIndexed(listKey: string, counterKey: string, value: Record<string, unknown>) {
    const push = ++this.pushes;
    const fault = this.failAt(push, listKey);
    if (fault === "refuse") {
      this.failures++;
      throw new Error(`cache write ${push} refused`);
    }
    const index = await super.listPushIndexed(listKey, counterKey, value);
    if (fault === "lose-reply") {
      this.failures++;
      throw new Error(`cache reply ${push} lost`);
    }
    return index;
  }
}

function create(cache: MastraServerCache, options: CachingPubSubOptions = {}) {
  const inner = new EventEmitterPubSub();
  const pubsub = new CachingPubSub(inner, cache, { logger: silentLogger, idleRecheckMs: 0, ...options });
  opened.push(pubsub);
  return { pubsub, inner };
}

function collector(): { events: Event[]; callback: (event: Event) => void } {
  const events: Event[] = [];
  return { events, callback: (event) => void events.push(event) };
}

const chunk = (text: string) => ({ type: "chunk", runId: "run-1", data: { text } });
const texts = (events: Event[]): unknown[] => events.map((event) => (event.data as { text: string }).text);
const range = (count: number): number[] => Array.from({ length: count }, (_, index) => index);

/** Publishes `count` chunks without waiting in between, so they form one batch. */
function publishBatch(pubsub: CachingPubSub, prefix: string, count: number): Promise<void>[] {
  return range(count).map((index) => pubsub.publish(topic, chunk(`${prefix}${index}`)));
}

/**
 * Publishes five chunks as one batch to a cache whose third push meets `fault`, with a subscriber
 * of the CachingPubSub (`live`) and one of the inner PubSub (`messages`); resolves once flushed.
 */
async function batchMeeting(fault: Fault) {
  const cache = new FlakyPlainCache();
  cache.failAt = (push) => (push === 3 ? fault : undefined);
  const { pubsub, inner } = create(cache, { batchWindowMs: 20 });
  const live = collector();
  const messages = collector();
  await pubsub.subscribe(topic, live.callback);
  await inner.subscribe(topic, messages.callback);
  await Promise.all(publishBatch(pubsub, "c", 5));
  await pubsub.flush();
  return { cache, pubsub, live, messages };
}

describe("a cache write that fails once in the middle of a batch", () => {
  it("is tried again: every event is stored and delivered live once, in order, and flush() resolves", async () => {
    const { cache, pubsub, live } = await batchMeeting("refuse");
    // The third of five pushes failed: two events were stored before it.
    expect(cache.failures).toBe(1);
    await until(() => live.events.length >= 5, { timeoutMs: 5_000 });
    expect(live.events.map((event) => event.index)).toEqual(range(5));
    expect(texts(live.events)).toEqual(["c0", "c1", "c2", "c3", "c4"]);
    expect(texts(await pubsub.getHistory(topic))).toEqual(["c0", "c1", "c2", "c3", "c4"]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(live.events).toHaveLength(5);
  });

  it("delivers what was stored before the failure at once, before the retry stores the rest", async () => {
    const { cache, messages } = await batchMeeting("refuse");
    expect(cache.failures).toBe(1);
    const sent = messages.events
      .filter((message) => message.type === EVENT_BATCH_KIND)
      .map((message) => (message.data as { events: Array<{ index: number }> }).events.map((event) => event.index));
    expect(sent).toEqual([
      [0, 1],
      [2, 3, 4],
    ]);
  });

  it("does not store an event twice when the failed push did store it and only its reply was lost", async () => {
    const { cache, pubsub, live } = await batchMeeting("lose-reply");
    expect(cache.failures).toBe(1);
    expect(texts(await pubsub.getHistory(topic))).toEqual(["c0", "c1", "c2", "c3", "c4"]);
    await until(() => live.events.length >= 5, { timeoutMs: 5_000 });
    expect(live.events.map((event) => event.index)).toEqual(range(5));
  });

  it("makes a publish made while the write is tried again wait until the failed events are stored", async () => {
    const cache = new FlakyPlainCache();
    cache.failAt = (push) => (push === 3 ? "refuse" : undefined);
    const { pubsub } = create(cache, { batchWindowMs: 20 });
    const live = collector();
    await pubsub.subscribe(topic, live.callback);
    const first = publishBatch(pubsub, "c", 5);
    // The two events stored before the failure are sent just before the retry is scheduled.
    await until(() => live.events.length === 2, { timeoutMs: 5_000, intervalMs: 1 });
    expect(cache.pushes).toBe(3);
    await pubsub.publish(topic, chunk("later"));
    // Resolved only once the retry had stored the batch ahead of it.
    expect(cache.pushes).toBeGreaterThanOrEqual(6);
    await Promise.all(first);
    await pubsub.flush();
    expect(texts(await pubsub.getHistory(topic))).toEqual(["c0", "c1", "c2", "c3", "c4", "later"]);
  });

  it("with an atomic cache, a batch over two topics retries only the topic that failed", async () => {
    const cache = new InMemoryStreamCache();
    const append = cache.appendIndexed.bind(cache);
    let appends = 0;
    vi.spyOn(cache, "appendIndexed").mockImplementation(async (request) => {
      appends++;
      if (appends === 2) {
        throw new Error("cache write refused");
      }
      return append(request);
    });
    const { pubsub, inner } = create(cache, { batchWindowMs: 20 });
    const other = "agent.stream.run-2";
    const messages = { [topic]: collector(), [other]: collector() };
    await inner.subscribe(topic, messages[topic].callback);
    await inner.subscribe(other, messages[other].callback);
    await Promise.all([
      pubsub.publish(topic, chunk("a0")),
      pubsub.publish(other, chunk("b0")),
      pubsub.publish(topic, chunk("a1")),
    ]);
    await pubsub.flush();
    expect(appends).toBe(3);
    // One message per topic: the first topic's events were not sent again with the retry.
    expect(messages[topic].events).toHaveLength(1);
    expect(messages[other].events).toHaveLength(1);
    expect(texts(await pubsub.getHistory(topic))).toEqual(["a0", "a1"]);
    expect(texts(await pubsub.getHistory(other))).toEqual(["b0"]);
  });
});

describe("a cache that keeps failing", () => {
  it("delivers what was stored; publishes then reject with a MastraInngestError naming the cause until flush() reports it", async () => {
    const cache = new FlakyPlainCache();
    let down = true;
    cache.failAt = (push) => (down && push >= 3 ? "refuse" : undefined);
    const { pubsub } = create(cache, { batchWindowMs: 20, writeRetries: 2 });
    const live = collector();
    await pubsub.subscribe(topic, live.callback);
    // Accepted before the first failure: they resolve, and flush() reports what became of them.
    await Promise.all(publishBatch(pubsub, "c", 5));
    await until(() => live.events.length === 2, { timeoutMs: 5_000, intervalMs: 1 });
    expect(cache.failures).toBe(1);
    // Made once a write had failed: it waits for the retries, then rejects rather than resolve.
    const isStoreFailure = (error: unknown): boolean =>
      MastraInngestError.isInstance(error, ErrorCode.TRANSPORT_CLOSED) &&
      /cache write \d+ refused/.test(error.message) &&
      error.message.includes("flush()");
    await expect(pubsub.publish(topic, chunk("during"))).rejects.toSatisfy(isStoreFailure);
    expect(cache.failures).toBe(3);
    await expect(pubsub.publish(topic, chunk("after"))).rejects.toSatisfy(isStoreFailure);
    await expect(pubsub.flush()).rejects.toSatisfy(isStoreFailure);
    // The two events stored before the failure reached the live subscriber, once each.
    expect(live.events.map((event) => event.index)).toEqual([0, 1]);
    down = false;
    await pubsub.publish(topic, chunk("healed"));
    await pubsub.flush();
    expect(texts(await pubsub.getHistory(topic))).toEqual(["c0", "c1", "healed"]);
    await until(() => live.events.length === 3, { timeoutMs: 5_000 });
    expect(texts(live.events)).toEqual(["c0", "c1", "healed"]);
  });

  it("does not try again a write the cache refused for good (a MastraInngestError other than TRANSPORT_CLOSED)", async () => {
    const cache = new InMemoryStreamCache();
    const append = vi
      .spyOn(cache, "appendIndexed")
      .mockRejectedValue(new MastraInngestError("too large for this cache", { code: ErrorCode.PAYLOAD_TOO_LARGE }));
    const { pubsub } = create(cache);
    await expect(pubsub.publish(topic, { type: "finish", runId: "run-1", data: {} })).rejects.toSatisfy(
      (error) => MastraInngestError.isInstance(error, ErrorCode.PAYLOAD_TOO_LARGE) && /too large/.test(error.message),
    );
    expect(append).toHaveBeenCalledTimes(1);
  });

  it("rejects a negative or fractional writeRetries naming the option", () => {
    for (const writeRetries of [-1, 1.5]) {
      expect(() => new CachingPubSub(new EventEmitterPubSub(), new InMemoryStreamCache(), { writeRetries })).toThrow(
        /writeRetries must be a non-negative integer/,
      );
    }
  });
});

/**
 * @see issue #18, item 8 (the fault suite, seed 2987462726, run r2987462726-601 lost words 17 to 28
 * of its last turn): a worker runs steps of several runs at once on one CachingPubSub. A write that
 * failed for good was one failure for the whole process, reported to whichever step flushed first;
 * the step whose events were lost then flushed cleanly and its result was kept without them.
 */
describe("publishers sharing one CachingPubSub", () => {
  const other = "agent.stream.run-2";
  const keyed = (runId: string, text: string, stepId: string, attempt: number, sequence: number) => ({
    type: "chunk",
    runId,
    data: { text },
    producer: { stepId, attempt, sequence },
  });
  const isStoreFailure = (error: unknown): boolean =>
    MastraInngestError.isInstance(error, ErrorCode.TRANSPORT_CLOSED) &&
    error.message.includes(topic) &&
    /cache write \d+ refused/.test(error.message) &&
    error.cause instanceof Error &&
    /cache write \d+ refused/.test(error.cause.message);

  it("reports a failed write to the publisher whose events it lost, not to whichever flushes first", async () => {
    const cache = new FlakyPlainCache();
    let down = true;
    let pushesOfRunOne = 0;
    // While `down`, every push to run 1's history after its first fails: its batch is stored part way.
    cache.failAt = (_push, listKey) => {
      if (!listKey.endsWith(`:${topic}:events`)) {
        return undefined;
      }
      pushesOfRunOne++;
      return down && pushesOfRunOne > 1 ? "refuse" : undefined;
    };
    const { pubsub } = create(cache, { batchWindowMs: 20, writeRetries: 1 });
    const stepOfRunOne = pubsub.createPublisher();
    const stepOfRunTwo = pubsub.createPublisher();
    const words = ["w0", "w1", "w2", "w3"];
    // One batch holding both runs' events, as a worker's steps publish them together.
    await Promise.all(
      words.flatMap((word, sequence) => [
        stepOfRunOne.publish(topic, keyed("run-1", word, "llm:3", 0, sequence)),
        stepOfRunTwo.publish(other, keyed("run-2", word, "llm:3", 0, sequence)),
      ]),
    );
    // Run 2's step flushes first: all of its events were stored.
    await stepOfRunTwo.flush();
    // The fault happened: the first try and its one retry failed, after w0 was stored.
    expect(cache.failures).toBe(2);
    // flush() of the CachingPubSub reports every failure, without taking it from run 1's step.
    await expect(pubsub.flush()).rejects.toSatisfy(isStoreFailure);
    // Run 1's step: its later events of that topic are refused, and its own flush reports the failure.
    await expect(stepOfRunOne.publish(topic, keyed("run-1", "late", "llm:3", 0, 4))).rejects.toSatisfy(isStoreFailure);
    await expect(stepOfRunOne.flush()).rejects.toSatisfy(isStoreFailure);
    await stepOfRunOne.flush();
    // Its step is retried (a newer attempt, the same producer keys) once the cache is back.
    down = false;
    const retry = pubsub.createPublisher();
    for (const [sequence, word] of words.entries()) {
      await retry.publish(topic, keyed("run-1", word, "llm:3", 1, sequence));
    }
    await retry.flush();
    await pubsub.flush();
    // Nothing lost, nothing twice: the retry superseded the w0 its failed attempt stored.
    expect(texts(await pubsub.getHistory(topic))).toEqual(words);
    expect(texts(await pubsub.getHistory(other))).toEqual(words);
  });

  it("on one topic, fails the publisher whose events were lost and stores the other's", async () => {
    const cache = new InMemoryStreamCache();
    const append = cache.appendIndexed.bind(cache);
    const appendIndexed = vi
      .spyOn(cache, "appendIndexed")
      .mockRejectedValueOnce(new Error("cache write 1 refused"))
      .mockImplementation((request) => append(request));
    const { pubsub } = create(cache, { batchWindowMs: 0, writeRetries: 0 });
    // Two tool steps of one run, in parallel.
    const first = pubsub.createPublisher();
    const second = pubsub.createPublisher();
    await first.publish(topic, keyed("run-1", "first", "tool:0:0", 0, 0));
    await until(() => appendIndexed.mock.calls.length === 1, { timeoutMs: 5_000, intervalMs: 1 });
    await second.publish(topic, keyed("run-1", "second", "tool:0:1", 0, 0));
    await second.flush();
    await expect(first.flush()).rejects.toSatisfy(isStoreFailure);
    expect(texts(await pubsub.getHistory(topic))).toEqual(["second"]);
  });

  it("without publishers of their own, refuses publishes to the failed topic only, until flush() reports it", async () => {
    const cache = new InMemoryStreamCache();
    const append = cache.appendIndexed.bind(cache);
    let down = true;
    vi.spyOn(cache, "appendIndexed").mockImplementation(async (request) => {
      if (down && request.listKey.endsWith(`:${topic}:events`)) {
        throw new Error("cache write 1 refused");
      }
      return append(request);
    });
    const { pubsub } = create(cache, { batching: false, writeRetries: 0 });
    await expect(pubsub.publish(topic, chunk("lost"))).rejects.toSatisfy(isStoreFailure);
    down = false;
    await pubsub.publish(other, chunk("other"));
    await expect(pubsub.publish(topic, chunk("refused"))).rejects.toSatisfy(isStoreFailure);
    await expect(pubsub.flush()).rejects.toSatisfy(isStoreFailure);
    await pubsub.publish(topic, chunk("afresh"));
    await pubsub.flush();
    expect(texts(await pubsub.getHistory(topic))).toEqual(["afresh"]);
    expect(texts(await pubsub.getHistory(other))).toEqual(["other"]);
  });
});
