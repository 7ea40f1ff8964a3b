// The capacity benchmark: one worker process streams every live run through one Redis, one
// observer process follows each run from offset 0, and this process (the caller) ramps the live
// runs up level by level, measuring each level after it settled.
import { execFile } from "node:child_process";
import { loadavg } from "node:os";
import { promisify } from "node:util";
import { startRedis } from "@mastra/inngest-testing";
import { chunkIntervalMs } from "./capacity-settings.ts";
import { startLineChild } from "./child-lines.ts";

/** One level of the ramp. */
export interface CapacityFigures {
  /** Runs streaming at once. */
  liveRuns: number;
  /** Chunks the worker published per second over the window, and those the observers received. */
  publishedPerSecond: number;
  deliveredPerSecond: number;
  /** Publish-to-observer latency over the window, in milliseconds. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU of one core each (100 = one core busy), over the window. */
  redisCpuPercent: number;
  workerCpuPercent: number;
  observerCpuPercent: number;
  /** The worker's heap after a collection, less its heap before any run, per live run, in KiB. */
  heapPerRunKiB: number;
  /** The worker's resident memory, in MiB. */
  workerRssMiB: number;
  /** The machine's one-minute load average at the end of the window (2 cores: above 2, processes wait for a core). */
  loadAverage: number;
  /** Whether the level met the goal: p99 <= 100 ms and every published chunk delivered (95% or more). */
  withinGoal: boolean;
}

/** What the ramp measures and how long each level lasts. */
export interface CapacitySettings {
  levels: number[];
  /** Seconds a level runs before it is measured, and the seconds it is measured. */
  settleSeconds: number;
  measureSeconds: number;
}

interface WorkerStats {
  cpuMicros: number;
  heapUsed: number;
  rss: number;
  published: number;
  failed: number;
}

interface ObserverStats {
  delivered: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  cpuMicros: number;
}

const run = promisify(execFile);

/** Redis's own CPU time so far (user + system), in seconds, from `INFO cpu`. */
async function redisCpuSeconds(port: number): Promise<number> {
  const { stdout } = await run("redis-cli", ["-p", String(port), "INFO", "cpu"]);
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(stdout)?.[1] ?? Number.NaN);
  return field("used_cpu_user") + field("used_cpu_sys");
}

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** Ramps the live runs through `settings.levels` and measures each level. */
export async function measureCapacity(settings: CapacitySettings): Promise<CapacityFigures[]> {
  const redis = await startRedis();
  const worker = await startLineChild("./capacity-worker.ts", [redis.url], ["--expose-gc"]);
  const observer = await startLineChild("./capacity-observer.ts", [redis.url]);
  const figures: CapacityFigures[] = [];
  try {
    const baseline = await worker.request<WorkerStats>("stats gc");
    for (const liveRuns of settings.levels) {
      // Observers first, so every chunk of a new run is delivered live.
      await observer.request(`runs ${liveRuns}`);
      await worker.request(`runs ${liveRuns}`);
      await sleep(settings.settleSeconds);
      await observer.request("reset");
      const before = await worker.request<WorkerStats>("stats");
      const redisBefore = await redisCpuSeconds(redis.port);
      const started = performance.now();
      await sleep(settings.measureSeconds);
      const seen = await observer.request<ObserverStats>("stats");
      const after = await worker.request<WorkerStats>("stats");
      const memory = await worker.request<WorkerStats>("stats gc");
      const seconds = (performance.now() - started) / 1000;
      const redisCpu = (await redisCpuSeconds(redis.port)) - redisBefore;
      const publishedPerSecond = (after.published - before.published) / seconds;
      const deliveredPerSecond = seen.delivered / seconds;
      const p99Ms = seen.p99Ms ?? Number.NaN;
      const level: CapacityFigures = {
        liveRuns,
        publishedPerSecond,
        deliveredPerSecond,
        p50Ms: seen.p50Ms ?? Number.NaN,
        p99Ms,
        maxMs: seen.maxMs ?? Number.NaN,
        redisCpuPercent: (100 * redisCpu) / seconds,
        workerCpuPercent: after.cpuMicros / 10_000 / seconds,
        observerCpuPercent: seen.cpuMicros / 10_000 / seconds,
        heapPerRunKiB: (memory.heapUsed - baseline.heapUsed) / liveRuns / 1024,
        workerRssMiB: memory.rss / 2 ** 20,
        loadAverage: loadavg()[0] ?? Number.NaN,
        withinGoal: p99Ms <= 100 && deliveredPerSecond >= 0.95 * publishedPerSecond && after.failed === 0,
      };
      figures.push(level);
      process.stdout.write(
        `capacity, ${liveRuns} live runs (${(liveRuns * 1000) / chunkIntervalMs} chunks/s offered): p50 ${level.p50Ms.toFixed(1)} ms, p99 ${p99Ms.toFixed(1)} ms\n`,
      );
    }
  } finally {
    await Promise.all([worker.stop(), observer.stop()]);
    await redis.stop();
  }
  return figures;
}
