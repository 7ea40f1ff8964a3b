import type { MastraServerCache } from "@mastra/core/cache";
import {
  getStreamCacheCapabilities,
  type IndexedAppendCache,
  type IndexedAppendEntry,
  type IndexedAppendRequest,
  type ProducerKey,
} from "@mastra/inngest-core";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { createNamespace } from "./internal/namespace.ts";

/** A cache with the stream capabilities of `@mastra/inngest-core`. */
export type StreamCache = MastraServerCache & IndexedAppendCache;

/** The context each test passes to `create`. */
export interface StreamCacheConformanceContext {
  /** A fresh random namespace; every key of the test starts with it. */
  namespace: string;
}

/** The cache under test, for {@link describeStreamCacheConformance}. */
export interface StreamCacheConformanceSetup {
  /** Names the suite in the test report. */
  name: string;
  /** Creates the cache for one test. */
  create: (context: StreamCacheConformanceContext) => StreamCache | Promise<StreamCache>;
  /** Releases the cache after each test (for example, quits a connection). */
  destroy?: (cache: StreamCache) => void | Promise<void>;
}

/**
 * Registers vitest tests for the optional capability a stream cache declares, `appendIndexed`
 * with `retain`: consecutive indices equal to list positions, under concurrent appends too;
 * deduplication by key; attempt ordering with a supersession marker; the event limit; TTLs on
 * every key of the topic; `retain()`. Run it for any cache you pass to `CachingPubSub` that
 * declares `indexedAppend`.
 *
 * @example
 * describeStreamCacheConformance({ name: "RedisStreamCache", create: ({ namespace }) => new RedisStreamCache({ url, keyPrefix: `${namespace}:` }) });
 */
export function describeStreamCacheConformance(setup: StreamCacheConformanceSetup): void {
  async function open(): Promise<{
    cache: StreamCache;
    request: (entries: IndexedAppendEntry[], extra?: Partial<IndexedAppendRequest>) => IndexedAppendRequest;
  }> {
    const namespace = createNamespace();
    const cache = await setup.create({ namespace });
    onTestFinished(async () => {
      await setup.destroy?.(cache);
    });
    const keys = {
      listKey: `${namespace}:{run}:events`,
      counterKey: `${namespace}:{run}:index`,
      producersKey: `${namespace}:{run}:producers`,
      attemptsKey: `${namespace}:{run}:attempts`,
    };
    return { cache, request: (entries, extra = {}) => ({ ...keys, entries, ...extra }) };
  }

  describe(`stream cache conformance: ${setup.name}`, () => {
    it("declares the indexedAppend capability and implements it", async () => {
      const { cache } = await open();
      expect(getStreamCacheCapabilities(cache).indexedAppend).toBe(true);
    });

    it("allocates consecutive indices equal to list positions and stores each event with its index", async () => {
      const { cache, request } = await open();
      const outcomes = await cache.appendIndexed(request([entry("a"), entry("b"), entry("c")]));
      expect(outcomes).toEqual([0, 1, 2].map((index) => ({ status: "appended", index })));
      const stored = (await cache.listFromTo(request([]).listKey, 0)) as Array<{ id: string; index: number }>;
      expect(stored.map((item) => [item.id, item.index])).toEqual([
        ["a", 0],
        ["b", 1],
        ["c", 2],
      ]);
    });

    it("keeps indices equal to positions under 20 concurrent appends of 10 events", async () => {
      const { cache, request } = await open();
      const batches = Array.from({ length: 20 }, (_, batch) =>
        cache.appendIndexed(request(Array.from({ length: 10 }, (_, position) => entry(`e${batch}-${position}`)))),
      );
      const indices = (await Promise.all(batches)).flat().map((outcome) => (outcome as { index: number }).index);
      expect([...indices].sort((left, right) => left - right)).toEqual(
        Array.from({ length: 200 }, (_, index) => index),
      );
      const stored = (await cache.listFromTo(request([]).listKey, 0)) as Array<{ index: number }>;
      expect(stored.map((item) => item.index)).toEqual(Array.from({ length: 200 }, (_, index) => index));
    });

    it("returns the stored index for a key seen before, and stores nothing for it", async () => {
      const { cache, request } = await open();
      await cache.appendIndexed(request([entry("a"), entry("b")]));
      expect(await cache.appendIndexed(request([entry("b"), entry("c")]))).toEqual([
        { status: "duplicate", index: 1 },
        { status: "appended", index: 2 },
      ]);
      expect(await cache.listLength(request([]).listKey)).toBe(3);
    });

    it("stores a marker before the first event of a newer attempt and refuses events of older ones", async () => {
      const { cache, request } = await open();
      const step = (attempt: number, sequence: number): ProducerKey => ({ stepId: "llm:0", attempt, sequence });
      await cache.appendIndexed(request([entry("a0", step(0, 0)), entry("a1", step(0, 1))]));
      const outcomes = await cache.appendIndexed(
        request([entry("b0", step(1, 0)), entry("b1", step(1, 1)), entry("late", step(0, 2))]),
      );
      expect(outcomes[0]).toMatchObject({
        status: "appended",
        index: 3,
        marker: {
          type: "attempt-superseded",
          id: "b0:superseded",
          runId: "run-1",
          index: 2,
          data: { stepId: "llm:0", attempt: 1, supersededAttempt: 0 },
        },
      });
      expect(outcomes[1]).toEqual({ status: "appended", index: 4 });
      expect(outcomes[2]).toEqual({ status: "stale", currentAttempt: 1 });
      const stored = (await cache.listFromTo(request([]).listKey, 0)) as Array<{
        id: string;
        index: number;
        type: string;
      }>;
      expect(stored.map((item) => [item.index, item.id])).toEqual([
        [0, "a0"],
        [1, "a1"],
        [2, "b0:superseded"],
        [3, "b0"],
        [4, "b1"],
      ]);
      expect(await cache.listFromTo(request([]).attemptsKey, 0)).toEqual([{ stepId: "llm:0", attempt: 1, index: 2 }]);
    });

    it("refuses entries past maxEvents unless they are exempt", async () => {
      const { cache, request } = await open();
      const outcomes = await cache.appendIndexed(
        request([entry("a"), entry("b"), entry("c"), { ...entry("end"), exemptFromLimit: true }], { maxEvents: 2 }),
      );
      expect(outcomes.map((outcome) => outcome.status)).toEqual(["appended", "appended", "limit", "appended"]);
    });

    it("applies the request's TTL to every key of the topic, and retain() extends it without shortening", async () => {
      const { cache, request } = await open();
      const step = (attempt: number): ProducerKey => ({ stepId: "s", attempt, sequence: 0 });
      await cache.appendIndexed(request([entry("x", step(0)), entry("y", step(1))], { ttlMs: 300 }));
      await cache.retain([request([]).attemptsKey], 60_000);
      await vi.waitFor(
        async () => {
          expect(await cache.listLength(request([]).listKey)).toBe(0);
          expect(await cache.get(request([]).counterKey)).toBeOneOf([undefined, null]);
        },
        { timeout: 5_000, interval: 50 },
      );
      expect(await cache.listLength(request([]).attemptsKey)).toBe(1);
    });
  });
}

function entry(id: string, producer?: ProducerKey): IndexedAppendEntry {
  const value = {
    type: "chunk",
    id,
    runId: "run-1",
    data: { id, list: [] as unknown[] },
    createdAt: "2026-11-27T10:00:00.000Z",
  };
  return producer === undefined
    ? { value, key: `id:${id}` }
    : { value: { ...value, producer }, key: `${producer.attempt}:${producer.sequence}@${producer.stepId}`, producer };
}
