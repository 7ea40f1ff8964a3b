import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { type Event, EventEmitterPubSub } from "@mastra/core/events";
import { streamTopic } from "@mastra/inngest-core";
import { startDevServer } from "@mastra/inngest-dev-server";
import { InngestPubSub } from "@mastra/inngest-pubsub-realtime";
import { RedisPubSub } from "@mastra/inngest-pubsub-redis";
import { CachingPubSub, InMemoryStreamCache } from "@mastra/inngest-stream-cache";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { startRedis } from "@mastra/inngest-testing";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { median } from "./measure.ts";

/** One streaming-path measurement. */
export interface StreamingFigures {
  /** The PubSub and cache pair. */
  pair: string;
  /** Runs streaming at once. */
  concurrentRuns: number;
  /** Events each run published. */
  eventsPerRun: number;
  /** Events delivered to observers per second, over all runs. */
  eventsPerSecond: number;
  /** Median publish-to-observer latency, in milliseconds. */
  p50Ms: number;
  /** 99th percentile publish-to-observer latency, in milliseconds. */
  p99Ms: number;
}

/** A publisher and an observer over one PubSub and cache pair, and how to release them. */
export interface Pair {
  name: string;
  publisher: CachingPubSub;
  observer: CachingPubSub;
  close(): Promise<void>;
}

const percentile = (sorted: number[], fraction: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;

/** Streams `eventsPerRun` chunks on each of `concurrentRuns` runs, an observer per run reading from offset 0. */
export async function measurePair(pair: Pair, concurrentRuns: number, eventsPerRun: number): Promise<StreamingFigures> {
  const latencies: number[] = [];
  const runs = Array.from({ length: concurrentRuns }, () => `stream-${randomUUID()}`);
  const finished: Promise<void>[] = [];
  // Every observer is subscribed before the first publish: a live-only PubSub (Realtime) with a
  // cache per instance has nothing to replay for an observer that came late.
  await Promise.all(
    runs.map(async (runId) => {
      let received = 0;
      let done: () => void = () => {};
      finished.push(
        new Promise<void>((resolve) => {
          done = resolve;
        }),
      );
      await pair.observer.subscribeFromOffset(streamTopic(runId), 0, (event: Event) => {
        latencies.push(performance.now() - (event.data as { sentAt: number }).sentAt);
        received++;
        if (received === eventsPerRun) done();
      });
    }),
  );
  const started = performance.now();
  await Promise.all(
    runs.map(async (runId) => {
      const publishes: Promise<void>[] = [];
      for (let sequence = 0; sequence < eventsPerRun; sequence++) {
        publishes.push(
          pair.publisher.publish(streamTopic(runId), {
            type: "chunk",
            runId,
            data: { sequence, sentAt: performance.now(), text: "a word " },
          }),
        );
        // A model streams: yield between chunks so publishes interleave with delivery.
        if (sequence % 20 === 19) await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(publishes);
    }),
  );
  await Promise.all(finished);
  const elapsedMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    pair: pair.name,
    concurrentRuns,
    eventsPerRun,
    eventsPerSecond: (concurrentRuns * eventsPerRun * 1000) / elapsedMs,
    p50Ms: median(latencies),
    p99Ms: percentile(latencies, 0.99),
  };
}

/** The physical ceiling: `redis-benchmark` for PUBLISH and RPUSH on the same server, in requests per second. */
async function redisCeiling(port: number): Promise<Record<string, number>> {
  const run = promisify(execFile);
  const ceiling: Record<string, number> = {};
  for (const [name, command] of [
    ["PUBLISH", ["PUBLISH", "bench-channel", "a word"]],
    ["RPUSH", ["RPUSH", "bench-list", "a word"]],
  ] as const) {
    const { stdout } = await run("redis-benchmark", ["-p", String(port), "-n", "50000", "-q", ...command]);
    const match = /([\d.]+) requests per second/.exec(stdout);
    ceiling[name] = match?.[1] === undefined ? Number.NaN : Number(match[1]);
  }
  return ceiling;
}

/**
 * Chunks per second and publish-to-observer latency for each PubSub and cache pair, with 1, 10
 * and 100 runs at once, plus `redis-benchmark` as the ceiling of this machine.
 */
export async function measureStreaming(
  eventsPerRun: number,
): Promise<{ rows: StreamingFigures[]; redisBenchmark: Record<string, number> }> {
  const redis = await startRedis();
  const engine = await startDevServer();
  const inngest = new Inngest({ id: "bench-streaming", isDev: true, baseUrl: engine.url, logger: silentLogger });
  const pairs: Array<() => Pair> = [
    () => {
      const pubsub = new CachingPubSub(new EventEmitterPubSub(), new InMemoryStreamCache());
      return { name: "in-memory (one process)", publisher: pubsub, observer: pubsub, close: () => pubsub.close() };
    },
    () => {
      const caches = [new RedisStreamCache({ url: redis.url }), new RedisStreamCache({ url: redis.url })];
      const [publisher, observer] = caches.map(
        (cache) => new CachingPubSub(new RedisPubSub({ url: redis.url }), cache),
      );
      return {
        name: "RedisPubSub + RedisStreamCache",
        publisher: publisher as CachingPubSub,
        observer: observer as CachingPubSub,
        async close() {
          await Promise.all([publisher?.close(), observer?.close(), ...caches.map((cache) => cache.close())]);
        },
      };
    },
    () => {
      const [publisher, observer] = [0, 1].map(
        () => new CachingPubSub(new InngestPubSub(inngest), new InMemoryStreamCache()),
      );
      return {
        name: "Inngest Realtime (dev server) + in-memory cache",
        publisher: publisher as CachingPubSub,
        observer: observer as CachingPubSub,
        async close() {
          await Promise.all([publisher?.close(), observer?.close()]);
        },
      };
    },
  ];
  const rows: StreamingFigures[] = [];
  try {
    for (const create of pairs) {
      for (const concurrentRuns of [1, 10, 100]) {
        const pair = create();
        rows.push(await measurePair(pair, concurrentRuns, eventsPerRun));
        await pair.close();
        process.stdout.write(`streaming, ${pair.name}, ${concurrentRuns} runs: done\n`);
      }
    }
    return { rows, redisBenchmark: await redisCeiling(redis.port) };
  } finally {
    await engine.close();
    await redis.stop();
  }
}
