import type { MastraServerCache } from "@mastra/core/cache";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { itUnless } from "./internal/delivery.ts";
import { toJsonValue } from "./internal/json.ts";
import { createNamespace } from "./internal/namespace.ts";

/** What {@link describeServerCacheConformance} passes to `create` for each test. */
export interface ServerCacheConformanceContext {
  /**
   * A fresh random namespace, one per test. Every key the suite touches starts with it. When the
   * backend is shared, use it as the cache's key prefix too, so that `clear()` stays inside the test.
   */
  namespace: string;
}

/** Optional behaviour of a cache. Only a declared `false` skips the cases that need it. */
export interface ServerCacheConformanceCapabilities {
  /**
   * `set(key, value, ttlMs)` removes the value once `ttlMs` milliseconds have passed.
   * @default true
   */
  ttl?: boolean;
}

/** The cache under test, for {@link describeServerCacheConformance}. */
export interface ServerCacheConformanceSetup {
  /** Shown in the suite's title, e.g. `"redis"`. */
  name: string;
  /** Creates a cache for one test. Called before every test with a fresh namespace. */
  create: (context: ServerCacheConformanceContext) => MastraServerCache | Promise<MastraServerCache>;
  /** Releases what `create` made (connections, servers). Called after every test. */
  destroy?: (cache: MastraServerCache) => void | Promise<void>;
  /** What the cache supports beyond the required methods. */
  capabilities?: ServerCacheConformanceCapabilities;
}

const shortTtlMs = 200;
const longTtlMs = 60_000;
const expiryTimeoutMs = 3_000;
const pollIntervalMs = 20;
const ttlTestTimeoutMs = 10_000;
const concurrentIncrements = 100;
const concurrentIndexedPushes = 50;
const concurrentPushes = 50;
const listSize = 10;

const jsonValues: ReadonlyArray<readonly [string, unknown]> = [
  ["an object", { text: "hello", count: 3, nested: { list: [1, "two", null], flag: true } }],
  ["an array", [1, "two", { three: 3 }, [4]]],
  ["an integer", 42],
  ["zero", 0],
  ["a negative fraction", -12.5],
  ["a string", "hello, world"],
  ["an empty string", ""],
  ["false", false],
  ["null", null],
  [
    "an event with a Date",
    {
      type: "chunk",
      id: "event-1",
      runId: "run-1",
      data: { text: "hi" },
      createdAt: new Date("2025-01-02T03:04:05.678Z"),
      index: 0,
    },
  ],
];

// [from, to, expected positions]; `to` undefined means the argument is omitted.
const ranges: ReadonlyArray<readonly [number, number | undefined, readonly number[]]> = [
  [0, undefined, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
  [0, -1, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
  [3, undefined, [3, 4, 5, 6, 7, 8, 9]],
  [3, -1, [3, 4, 5, 6, 7, 8, 9]],
  [2, 4, [2, 3, 4]],
  [0, 0, [0]],
  [9, 9, [9]],
  [9, undefined, [9]],
  [4, 100, [4, 5, 6, 7, 8, 9]],
  [10, undefined, []],
  [10, -1, []],
  [6, 5, []],
];

/**
 * Registers vitest `describe`/`it` blocks that check a `MastraServerCache` against the written
 * semantics of every method: JSON round trips, TTL expiry, list order and inclusive ranges,
 * deletion, atomic `increment` and `listPushIndexed`, key isolation and `clear()`. Each test gets
 * its own cache from `create` and keys under a fresh namespace, so runs can share one backend.
 *
 * @example
 * import { InMemoryServerCache } from "@mastra/core/cache";
 * import { describeServerCacheConformance } from "@mastra/inngest-testing/cache";
 *
 * describeServerCacheConformance({
 *   name: "@mastra/core InMemoryServerCache",
 *   create: () => new InMemoryServerCache(),
 * });
 */
export function describeServerCacheConformance(setup: ServerCacheConformanceSetup): void {
  const supportsTtl = setup.capabilities?.ttl !== false;

  async function openCache(): Promise<{ cache: MastraServerCache; key: (name: string) => string }> {
    const namespace = createNamespace();
    const cache = await setup.create({ namespace });
    onTestFinished(async () => {
      await setup.destroy?.(cache);
    });
    return { cache, key: (name) => `${namespace}:${name}` };
  }

  async function pushPositions(cache: MastraServerCache, key: string, count: number): Promise<void> {
    for (let position = 0; position < count; position += 1) {
      await cache.listPush(key, { position });
    }
  }

  describe(`MastraServerCache conformance: ${setup.name}`, () => {
    describe("get and set", () => {
      it("get returns undefined or null for a key never set", async () => {
        const { cache, key } = await openCache();
        expect([undefined, null]).toContain(await cache.get(key("missing")));
      });

      it.each(jsonValues)("set then get returns %s", async (_description, value) => {
        const { cache, key } = await openCache();
        await cache.set(key("value"), value);
        expect(toJsonValue(await cache.get(key("value")))).toEqual(toJsonValue(value));
      });

      it("set replaces the previous value", async () => {
        const { cache, key } = await openCache();
        await cache.set(key("value"), { version: 1 });
        await cache.set(key("value"), { version: 2 });
        expect(toJsonValue(await cache.get(key("value")))).toEqual({ version: 2 });
      });

      itUnless(!supportsTtl)(
        `a value set with ttlMs ${shortTtlMs} is gone within ${expiryTimeoutMs} ms`,
        async () => {
          const { cache, key } = await openCache();
          await cache.set(key("expiring"), { alive: true }, shortTtlMs);
          expect(toJsonValue(await cache.get(key("expiring")))).toEqual({ alive: true });
          await vi.waitFor(
            async () => {
              expect([undefined, null]).toContain(await cache.get(key("expiring")));
            },
            { timeout: expiryTimeoutMs, interval: pollIntervalMs },
          );
        },
        ttlTestTimeoutMs,
      );

      itUnless(!supportsTtl)(
        "ttlMs applies to its own key only",
        async () => {
          const { cache, key } = await openCache();
          await cache.set(key("short"), "short", shortTtlMs);
          await cache.set(key("long"), "long", longTtlMs);
          await cache.set(key("default"), "default");
          await vi.waitFor(
            async () => {
              expect([undefined, null]).toContain(await cache.get(key("short")));
            },
            { timeout: expiryTimeoutMs, interval: pollIntervalMs },
          );
          expect(await cache.get(key("long"))).toBe("long");
          expect(await cache.get(key("default"))).toBe("default");
        },
        ttlTestTimeoutMs,
      );
    });

    describe("lists", () => {
      it("a list never pushed to has length 0 and no items", async () => {
        const { cache, key } = await openCache();
        expect(await cache.listLength(key("list"))).toBe(0);
        expect(await cache.listFromTo(key("list"), 0)).toEqual([]);
        expect(await cache.listFromTo(key("list"), 0, -1)).toEqual([]);
        expect(await cache.listFromTo(key("list"), 2, 5)).toEqual([]);
      });

      it("listPush appends in call order and listLength counts the items", async () => {
        const { cache, key } = await openCache();
        const values = [{ text: "first" }, "second", 3, [4], { createdAt: new Date(0) }];
        for (const value of values) {
          await cache.listPush(key("list"), value);
        }
        expect(await cache.listLength(key("list"))).toBe(values.length);
        expect(toJsonValue(await cache.listFromTo(key("list"), 0))).toEqual(toJsonValue(values));
      });

      it.each(ranges)("listFromTo(key, %d, %s) on 10 items returns positions %j", async (from, to, positions) => {
        const { cache, key } = await openCache();
        await pushPositions(cache, key("list"), listSize);
        const items =
          to === undefined ? await cache.listFromTo(key("list"), from) : await cache.listFromTo(key("list"), from, to);
        expect(toJsonValue(items)).toEqual(positions.map((position) => ({ position })));
      });

      it(`${concurrentPushes} concurrent listPush calls lose no item`, async () => {
        const { cache, key } = await openCache();
        const calls = Array.from({ length: concurrentPushes }, (_, call) => call);
        await Promise.all(calls.map((call) => cache.listPush(key("list"), { call })));
        expect(await cache.listLength(key("list"))).toBe(concurrentPushes);
        const items = (await cache.listFromTo(key("list"), 0)) as Array<{ call: number }>;
        expect(items.map((item) => item.call).sort((left, right) => left - right)).toEqual(calls);
      });
    });

    describe("delete", () => {
      it("delete removes a value", async () => {
        const { cache, key } = await openCache();
        await cache.set(key("value"), "value");
        await cache.delete(key("value"));
        expect([undefined, null]).toContain(await cache.get(key("value")));
      });

      it("delete removes a list", async () => {
        const { cache, key } = await openCache();
        await pushPositions(cache, key("list"), 3);
        await cache.delete(key("list"));
        expect(await cache.listLength(key("list"))).toBe(0);
        expect(await cache.listFromTo(key("list"), 0)).toEqual([]);
      });

      it("delete removes a counter, so increment starts again at 1", async () => {
        const { cache, key } = await openCache();
        await cache.increment(key("counter"));
        await cache.increment(key("counter"));
        await cache.delete(key("counter"));
        expect(await cache.increment(key("counter"))).toBe(1);
      });

      it("delete of a key never set resolves", async () => {
        const { cache, key } = await openCache();
        await cache.delete(key("missing"));
      });

      it("delete leaves other keys alone", async () => {
        const { cache, key } = await openCache();
        await cache.set(key("deleted"), "deleted");
        await cache.set(key("kept"), "kept");
        await cache.listPush(key("kept:list"), "item");
        await cache.delete(key("deleted"));
        expect(await cache.get(key("kept"))).toBe("kept");
        expect(await cache.listFromTo(key("kept:list"), 0)).toEqual(["item"]);
      });
    });

    describe("increment", () => {
      it("returns 1 on the first call, then counts up by 1", async () => {
        const { cache, key } = await openCache();
        expect(await cache.increment(key("counter"))).toBe(1);
        expect(await cache.increment(key("counter"))).toBe(2);
        expect(await cache.increment(key("counter"))).toBe(3);
      });

      it(`${concurrentIncrements} concurrent calls return 1..${concurrentIncrements}, each once`, async () => {
        const { cache, key } = await openCache();
        const results = await Promise.all(
          Array.from({ length: concurrentIncrements }, () => cache.increment(key("counter"))),
        );
        const expected = Array.from({ length: concurrentIncrements }, (_, position) => position + 1);
        expect([...results].sort((left, right) => left - right)).toEqual(expected);
        expect(await cache.increment(key("counter"))).toBe(concurrentIncrements + 1);
      });
    });

    describe("listPushIndexed", () => {
      it("returns 0, 1, 2 and stores each value with its index, which equals its position", async () => {
        const { cache, key } = await openCache();
        const values = [
          { type: "chunk", data: { text: "a" } },
          { type: "chunk", data: { text: "b" } },
          { type: "finish", data: {}, createdAt: new Date(0) },
        ];
        const indices: number[] = [];
        for (const value of values) {
          indices.push(await cache.listPushIndexed(key("events"), key("events:counter"), value));
        }
        expect(indices).toEqual([0, 1, 2]);
        const stored = await cache.listFromTo(key("events"), 0);
        expect(toJsonValue(stored)).toEqual(toJsonValue(values.map((value, index) => ({ ...value, index }))));
      });

      it(`${concurrentIndexedPushes} concurrent calls return 0..${concurrentIndexedPushes - 1} and every stored index equals its position`, async () => {
        const { cache, key } = await openCache();
        const calls = Array.from({ length: concurrentIndexedPushes }, (_, call) => call);
        const indices = await Promise.all(
          calls.map((call) => cache.listPushIndexed(key("events"), key("events:counter"), { call })),
        );
        expect([...indices].sort((left, right) => left - right)).toEqual(calls);
        const stored = (await cache.listFromTo(key("events"), 0)) as Array<{ call: number; index: number }>;
        expect(stored).toHaveLength(concurrentIndexedPushes);
        stored.forEach((item, position) => {
          expect(item.index).toBe(position);
        });
        calls.forEach((call) => {
          expect(stored[indices[call] as number]?.call).toBe(call);
        });
      });

      it("starts again at 0 once the list and its counter are deleted", async () => {
        const { cache, key } = await openCache();
        await cache.listPushIndexed(key("events"), key("events:counter"), { run: 1 });
        await cache.listPushIndexed(key("events"), key("events:counter"), { run: 1 });
        await cache.delete(key("events"));
        await cache.delete(key("events:counter"));
        expect(await cache.listPushIndexed(key("events"), key("events:counter"), { run: 2 })).toBe(0);
        expect(toJsonValue(await cache.listFromTo(key("events"), 0))).toEqual([{ run: 2, index: 0 }]);
      });
    });

    describe("key isolation", () => {
      it("values, lists and counters under different keys never mix, even when one key prefixes another", async () => {
        const { cache, key } = await openCache();
        await cache.set(key("topic"), "topic");
        await cache.set(key("topic:other"), "other");
        await cache.listPush(key("list"), "list item 1");
        await cache.listPush(key("list"), "list item 2");
        await cache.listPush(key("list:other"), "other item");
        await cache.increment(key("counter"));
        await cache.increment(key("counter"));

        expect(await cache.get(key("topic"))).toBe("topic");
        expect(await cache.get(key("topic:other"))).toBe("other");
        expect(await cache.listFromTo(key("list"), 0)).toEqual(["list item 1", "list item 2"]);
        expect(await cache.listFromTo(key("list:other"), 0)).toEqual(["other item"]);
        expect(await cache.increment(key("counter:other"))).toBe(1);
        expect(await cache.increment(key("counter"))).toBe(3);
      });
    });

    describe("clear", () => {
      it("clear removes values, lists and counters", async () => {
        const { cache, key } = await openCache();
        await cache.set(key("value"), "value");
        await pushPositions(cache, key("list"), 3);
        await cache.increment(key("counter"));
        await cache.increment(key("counter"));
        await cache.clear();
        expect([undefined, null]).toContain(await cache.get(key("value")));
        expect(await cache.listLength(key("list"))).toBe(0);
        expect(await cache.listFromTo(key("list"), 0)).toEqual([]);
        expect(await cache.increment(key("counter"))).toBe(1);
      });
    });
  });
}
