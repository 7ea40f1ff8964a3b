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

describe("InMemoryStreamCache.appendIndexed", () => {
  it("allocates consecutive indices equal to list positions and stores them in the entries", async () => {
    const cache = new InMemoryStreamCache();
    const outcomes = await cache.appendIndexed({ ...keys, entries: [entry("a"), entry("b"), entry("c")] });
    expect(outcomes).toEqual([
      { status: "appended", index: 0 },
      { status: "appended", index: 1 },
      { status: "appended", index: 2 },
    ]);
    const stored = (await cache.listFromTo(keys.listKey, 0)) as Array<{ id: string; index: number }>;
    expect(stored.map((item) => [item.id, item.index])).toEqual([
      ["a", 0],
      ["b", 1],
      ["c", 2],
    ]);
  });

  it("returns the stored index for a key seen before and stores nothing", async () => {
    const cache = new InMemoryStreamCache();
    await cache.appendIndexed({ ...keys, entries: [entry("a"), entry("b")] });
    const again = await cache.appendIndexed({ ...keys, entries: [entry("b"), entry("c")] });
    expect(again).toEqual([
      { status: "duplicate", index: 1 },
      { status: "appended", index: 2 },
    ]);
    expect(await cache.listLength(keys.listKey)).toBe(3);
  });

  it("stores a marker before the first event of a newer attempt, and refuses older attempts afterwards", async () => {
    const cache = new InMemoryStreamCache();
    const step = (attempt: number, sequence: number) => ({ stepId: "llm:0", attempt, sequence });
    await cache.appendIndexed({ ...keys, entries: [entry("a0", step(0, 0)), entry("a1", step(0, 1))] });
    const retried = await cache.appendIndexed({
      ...keys,
      entries: [entry("b0", step(1, 0)), entry("b1", step(1, 1)), entry("late", step(0, 2))],
    });
    expect(retried[0]).toMatchObject({
      status: "appended",
      index: 3,
      marker: { type: "attempt-superseded", index: 2, data: { stepId: "llm:0", attempt: 1, supersededAttempt: 0 } },
    });
    expect(retried[1]).toEqual({ status: "appended", index: 4 });
    expect(retried[2]).toEqual({ status: "stale", currentAttempt: 1 });
    expect(await cache.listFromTo(keys.attemptsKey, 0)).toEqual([{ stepId: "llm:0", attempt: 1, index: 2 }]);
  });

  it("refuses entries past maxEvents unless they are exempt", async () => {
    const cache = new InMemoryStreamCache();
    const outcomes = await cache.appendIndexed({
      ...keys,
      maxEvents: 2,
      entries: [entry("a"), entry("b"), entry("c"), { ...entry("end"), exemptFromLimit: true }],
    });
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["appended", "appended", "limit", "appended"]);
  });

  it("expires every key of the topic after the request's TTL, and retain() extends it", async () => {
    const cache = new InMemoryStreamCache();
    await cache.appendIndexed({ ...keys, ttlMs: 40, entries: [entry("a")] });
    await cache.retain([keys.listKey], 5_000);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await cache.listLength(keys.listKey)).toBe(1);
    expect(await cache.get(keys.counterKey)).toBeUndefined();
  });
});

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
