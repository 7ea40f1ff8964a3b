import { randomUUID } from "node:crypto";
import { CachingPubSub as CoreCachingPubSub, EventEmitterPubSub, type PubSub } from "@mastra/core/events";
import { streamTopic } from "@mastra/inngest-core";
import { CachingPubSub } from "@mastra/inngest-stream-cache";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { startRedis } from "@mastra/inngest-testing";
import { median } from "./measure.ts";

/** One replay measurement. */
export interface ReplayFigures {
  /** Which caching layer replayed. */
  system: string;
  /** Events in the finished run. */
  events: number;
  /** How long writing them took, in milliseconds. */
  writeMs: number;
  /** From `subscribeFromOffset(topic, 0)` until the last event arrived, in milliseconds (median of the replays). */
  replayMs: number;
  /** Highest heap growth over the replays, sampled every 5 ms, in MiB. */
  peakHeapMiB: number;
}

type CachingLayer = PubSub & {
  subscribeFromOffset(topic: string, offset: number, callback: (event: unknown) => void): Promise<void>;
  close?(): Promise<void>;
};

/** Waits for every write, then releases what the layer holds (core's has no `close()`). */
async function release(layer: CachingLayer): Promise<void> {
  await layer.flush();
  await layer.close?.();
}

/**
 * Replays a finished run of `count` events from offset 0, through this project's `CachingPubSub`
 * and through `@mastra/core`'s, both over the same `RedisStreamCache` on a Redis server of its own.
 */
export async function measureReplay(counts: number[]): Promise<ReplayFigures[]> {
  const redis = await startRedis();
  const cache = new RedisStreamCache({ url: redis.url });
  const layers: Array<[string, () => CachingLayer]> = [
    [
      "@mastra/inngest-stream-cache",
      () => new CachingPubSub(new EventEmitterPubSub(), cache) as unknown as CachingLayer,
    ],
    ["core CachingPubSub", () => new CoreCachingPubSub(new EventEmitterPubSub(), cache) as unknown as CachingLayer],
  ];
  const figures: ReplayFigures[] = [];
  try {
    // One unmeasured run of each layer first, so neither pays for compiling its read path in the
    // figures (a server replays many runs).
    for (const [system, create] of layers) {
      await writeAndReplay(system, create, 1_000, 1);
    }
    for (const count of counts) {
      for (const [system, create] of layers) {
        const measured = await writeAndReplay(system, create, count, replaysPerRun);
        figures.push(measured);
        process.stdout.write(`replay of ${count} events, ${system}: ${measured.replayMs.toFixed(0)} ms\n`);
      }
    }
  } finally {
    await cache.close();
    await redis.stop();
  }
  return figures;
}

/** Replays of each written run: the median time and the highest heap growth are reported. */
const replaysPerRun = 3;

/** Writes a run of `count` events through a fresh layer, then replays it `replays` times, each through a fresh layer. */
async function writeAndReplay(
  system: string,
  create: () => CachingLayer,
  count: number,
  replays: number,
): Promise<ReplayFigures> {
  const runId = `replay-${randomUUID()}`;
  const topic = streamTopic(runId);
  const writer = create();
  const writing = performance.now();
  // Published in groups, as a streaming step does, so batching layers can batch.
  for (let start = 0; start < count; start += 500) {
    const group = Array.from({ length: Math.min(500, count - start) }, (_, index) =>
      writer.publish(topic, {
        type: "chunk",
        runId,
        data: { sequence: start + index, text: "twenty bytes of text" },
      }),
    );
    await Promise.all(group);
  }
  await release(writer);
  const writeMs = performance.now() - writing;
  const times: number[] = [];
  let peakHeapMiB = 0;
  for (let replay = 0; replay < replays; replay++) {
    const measured = await replayOnce(system, create(), topic, count);
    times.push(measured.replayMs);
    peakHeapMiB = Math.max(peakHeapMiB, measured.peakHeapMiB);
  }
  return { system, events: count, writeMs, replayMs: median(times), peakHeapMiB };
}

/** Replays `topic` from offset 0 through `reader` until `count` events arrived, sampling the heap every 5 ms. */
async function replayOnce(
  system: string,
  reader: CachingLayer,
  topic: string,
  count: number,
): Promise<{ replayMs: number; peakHeapMiB: number }> {
  const baseline = process.memoryUsage().heapUsed;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 5);
  const replaying = performance.now();
  let received = 0;
  await new Promise<void>((resolve, reject) => {
    const timeout = setTimeout(
      () => reject(new Error(`${system} replayed ${received} of ${count} events in 120 s`)),
      120_000,
    );
    void reader.subscribeFromOffset(topic, 0, () => {
      received++;
      if (received === count) {
        clearTimeout(timeout);
        resolve();
      }
    });
  });
  const replayMs = performance.now() - replaying;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  await release(reader);
  return { replayMs, peakHeapMiB: (peak - baseline) / 2 ** 20 };
}
