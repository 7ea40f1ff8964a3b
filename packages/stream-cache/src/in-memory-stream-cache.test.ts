import { ErrorCode, MastraInngestError, type StreamEventEnvelope } from "@mastra/inngest-core";
import { describe, expect, it } from "vitest";
import { InMemoryStreamCache } from "./in-memory-stream-cache.ts";

const keys = {
  listKey: "t:events",
  counterKey: "t:index",
  producersKey: "t:producers",
  attemptsKey: "t:attempts",
};

function envelope(id: string, producer?: { stepId: string; attempt: number; sequence: number }): StreamEventEnvelope {
  return {
    type: "chunk",
    id,
    runId: "run-1",
    data: { id },
    createdAt: "2026-11-27T10:00:00.000Z",
    ...(producer ? { producer } : {}),
  };
}

function entry(id: string, producer?: { stepId: string; attempt: number; sequence: number }) {
  const value = envelope(id, producer);
  return producer
    ? { value, key: `${producer.attempt}:${producer.sequence}@${producer.stepId}`, producer }
    : { value, key: `id:${id}` };
}

describe("InMemoryStreamCache bounds", () => {
  it("keeps at most maxKeys keys, dropping the least recently written", async () => {
    const cache = new InMemoryStreamCache({ maxKeys: 3 });
    for (const key of ["a", "b", "c", "d"]) {
      await cache.set(key, key);
    }
    expect(await cache.get("a")).toBeUndefined();
    expect(await cache.get("d")).toBe("d");
  });

  it("trims lists to maxListLength and keeps indices as allocated", async () => {
    const cache = new InMemoryStreamCache({ maxListLength: 2 });
    await cache.appendIndexed({ ...keys, entries: [entry("a"), entry("b"), entry("c")] });
    const stored = (await cache.listFromTo(keys.listKey, 0)) as Array<{ index: number }>;
    expect(stored.map((item) => item.index)).toEqual([1, 2]);
  });

  it("stores JSON copies, as a network cache does", async () => {
    const cache = new InMemoryStreamCache();
    const value = { when: new Date(0), nested: { n: 1 } };
    await cache.set("k", value);
    value.nested.n = 2;
    expect(await cache.get("k")).toEqual({ when: "1970-01-01T00:00:00.000Z", nested: { n: 1 } });
  });

  it.each([
    ["ttlMs", { ttlMs: 0 }],
    ["maxKeys", { maxKeys: -1 }],
    ["maxListLength", { maxListLength: 1.5 }],
  ])("rejects a bad %s with INVALID_OPTION", (field, options) => {
    let thrown: unknown;
    try {
      new InMemoryStreamCache(options);
    } catch (error) {
      thrown = error;
    }
    expect(MastraInngestError.isInstance(thrown, ErrorCode.INVALID_OPTION)).toBe(true);
    expect((thrown as Error).message).toContain(`${field} must be a positive integer`);
  });
});

describe("InMemoryStreamCache times to live", () => {
  it("retain() only lengthens a key's time to live; expire() sets it, shorter too", async () => {
    const cache = new InMemoryStreamCache({ ttlMs: 60_000 });
    expect(cache.defaultTtlMs).toBe(60_000);
    await cache.listPush("claim", { id: 1 });
    await cache.retain(["claim"], 10);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await cache.listLength("claim")).toBe(1);
    await cache.expire(["claim"], 10);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await cache.listLength("claim")).toBe(0);
  });
});
