import { EventEmitterPubSub } from "@mastra/core/events";
import { createKeyLayout } from "@mastra/inngest-core";
import { describe, expect, it, vi } from "vitest";
import { CachingPubSub } from "../caching-pubsub.ts";
import { InMemoryStreamCache } from "../in-memory-stream-cache.ts";
import { HistoryReader, readAhead, targetPageBytes } from "./history-reader.ts";

const topic = "agent.stream.run-1";
const keys = createKeyLayout({ keyPrefix: "mastra:inngest" }).topic(topic);

/** A cache holding `count` chunks of `textBytes` bytes of text each, indices 0 to count - 1. */
async function storedHistory(count: number, textBytes: number): Promise<InMemoryStreamCache> {
  const cache = new InMemoryStreamCache();
  const pubsub = new CachingPubSub(new EventEmitterPubSub(), cache, {
    idleRecheckMs: 0,
    maxEventBytes: 4 * 1024 * 1024,
  });
  for (let index = 0; index < count; index++) {
    void pubsub.publish(topic, { type: "chunk", runId: "run-1", data: { index, text: "x".repeat(textBytes) } });
  }
  await pubsub.close();
  return cache;
}

/** The event ranges read from the cache (positions from, to inclusive), skipping the first-index probe. */
function rangesRead(read: ReturnType<typeof vi.spyOn>): Array<[number, number]> {
  return (read.mock.calls as Array<[string, number, number]>)
    .map(([, from, to]): [number, number] => [from, to])
    .filter(([from, to]) => !(from === 0 && to === 0));
}

async function readAll(reader: HistoryReader, from: number, until?: number): Promise<number[]> {
  const indices: number[] = [];
  for await (const page of reader.pages(keys, from, until)) {
    indices.push(...page.map((event) => event.index as number));
  }
  return indices;
}

describe("HistoryReader", () => {
  it("reads a long history in consecutive ranges, every index once and in order, with ranges requested ahead", async () => {
    const cache = await storedHistory(1_000, 10);
    const read = vi.spyOn(cache, "listFromTo");
    const reader = new HistoryReader(cache, 100);
    let requestedWhileFirstPageDelivered = 0;
    const indices: number[] = [];
    for await (const page of reader.pages(keys, 0)) {
      if (indices.length === 0) {
        requestedWhileFirstPageDelivered = rangesRead(read).length;
      }
      indices.push(...page.map((event) => event.index as number));
    }
    expect(indices).toEqual(Array.from({ length: 1_000 }, (_, index) => index));
    // Once the first range came back full, the next ones were on their way before it was delivered.
    expect(requestedWhileFirstPageDelivered).toBe(1 + readAhead);
    const ranges = rangesRead(read);
    ranges.forEach(([from, to], position) => {
      expect(to - from + 1).toBeLessThanOrEqual(100);
      if (position > 0) expect(from).toBe((ranges[position - 1] as [number, number])[1] + 1);
    });
  });

  it("reads a bounded gap with one range of exactly its length", async () => {
    const cache = await storedHistory(1_000, 10);
    const read = vi.spyOn(cache, "listFromTo");
    const reader = new HistoryReader(cache, 500);
    expect(await readAll(reader, 40, 43)).toEqual([40, 41, 42]);
    expect(rangesRead(read)).toEqual([[40, 42]]);
  });

  it("sizes ranges of large events to about targetPageBytes of JSON", async () => {
    const textBytes = 64 * 1024;
    const cache = await storedHistory(40, textBytes);
    const read = vi.spyOn(cache, "listFromTo");
    const reader = new HistoryReader(cache, 500);
    expect(await readAll(reader, 0)).toHaveLength(40);
    const [first, ...later] = rangesRead(read);
    expect(first).toEqual([0, 499]);
    const expected = Math.max(16, Math.floor(targetPageBytes / textBytes));
    for (const [from, to] of later) {
      expect(to - from + 1).toBeLessThanOrEqual(expected);
    }
  });
});
