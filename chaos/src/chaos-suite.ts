import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevServer } from "@mastra/inngest-dev-server";
import { RedisPubSub } from "@mastra/inngest-pubsub-redis";
import { CachingPubSub } from "@mastra/inngest-stream-cache";
import { startRedis } from "@mastra/inngest-testing";
import { DroppingPubSub, silentLogger } from "@mastra/inngest-testing/helpers";
import { Redis } from "ioredis";
import { createChaosCaller } from "./chaos-topology.ts";
import { beforeDeadline, settledBefore } from "./deadline.ts";
import { dumpViolatingRuns } from "./debug-dump.ts";
import { driveRun, type RunResult } from "./drive-run.ts";
import { executionViolations, readExecutions } from "./execution-invariants.ts";
import { type FaultKind, FaultLog } from "./fault-log.ts";
import { type FaultPace, runFaultSchedule } from "./fault-schedule.ts";
import { collectHangEvidence, type HangSources } from "./hang-evidence.ts";
import { formatHangReport } from "./hang-report.ts";
import { type MemoryReport, memoryViolations, watchMemory } from "./memory-watch.ts";
import { createRandom } from "./random.ts";
import { retentionViolations } from "./retention-check.ts";
import { runViolations } from "./run-invariants.ts";
import { ScaledRetentionCache } from "./scaled-retention-cache.ts";
import { startWorkerPool } from "./worker-pool.ts";
import type { WorkloadLimits } from "./workload.ts";

/** How a suite run is sized. */
export interface ChaosOptions {
  seed: number;
  /** How long faults strike and new runs start, in milliseconds. */
  faultMs: number;
  /** Runs in flight at once. */
  concurrentRuns: number;
  /** Worker processes serving the loop. */
  workers: number;
  pace: FaultPace;
  /** The share of live deliveries the observers' transport drops. */
  dropProbability: number;
  /** How long a run may take before it counts as hanging, in milliseconds. */
  runBoundMs: number;
  /** Wait until run records expired too (a few minutes) and require that no key is left. */
  waitForRecords: boolean;
  limits?: WorkloadLimits;
  /** Where to write what is known of each run that broke an invariant; nowhere when absent. */
  debugDirectory?: string;
  /** Receives progress lines. */
  log?: (line: string) => void;
}

/** What a suite run did and found. */
export interface ChaosReport {
  seed: number;
  /** Wall time of the whole suite, setup and checks included, in milliseconds. */
  durationMs: number;
  faultMs: number;
  runs: number;
  completedRuns: number;
  faults: Record<FaultKind, number>;
  toolExecutions: number;
  /** Tool executions repeated because a fault struck the step after its tool ran. */
  repeatedAfterFault: number;
  memory: MemoryReport;
  /** Why `stream()` failed before a run started, with how often (its start was retried under a new id). */
  startFailures: Record<string, number>;
  /** Redis channels some connection still subscribes to once every run ended and every observer left. */
  subscribedChannels: number;
  /** Runs that did not end within the bound (each has a report among the violations). */
  hungRuns: number;
  violations: string[];
}

/** A run and what its own invariants found. */
interface CheckedRun {
  result: RunResult;
  /** Its violations, the hang report included. */
  violations: string[];
  /** The report of a run that did not end in time. */
  hangReport?: string;
}

/**
 * Checks a run as soon as it ended, and keeps its history and observers' events only when it broke
 * an invariant: a long suite holds thousands of runs, and the memory bound is the product's. A run
 * that did not end gets its hang report too, read now, while its record and history are still kept.
 */
async function checkRun(result: RunResult, sources: HangSources): Promise<CheckedRun> {
  const violations = runViolations(result);
  if (result.endedAt === undefined) {
    const hangReport = formatHangReport(await collectHangEvidence(sources, result));
    return { result, violations: [...violations, hangReport], hangReport };
  }
  if (violations.length > 0) {
    return { result, violations };
  }
  const { log: _log, replay: _replay, ...kept } = result;
  return { result: { ...kept, segments: [], callerTypes: [] }, violations };
}

/**
 * Divides every retention of the product (the agent's defaults below: a day of history while a run
 * runs or waits, an hour after it ended, run records a little longer) by 360, so the suite sees
 * keys expire: ten seconds of history after a run ended, at most about eight minutes of records.
 */
const retentionDivisor = 360;
/** The agent's default retention with the suite's cache and wait (see the agent README). */
const productRetention = { activeMs: 86_400_000, endedMs: 3_600_000, waitMs: 86_400_000 };
/** How long after the last run's deadline its driver may take to return (its grace for decisions and observers, and more), in ms. */
const laneGraceMs = 30_000;
/** How long the fault schedule may take to stop once told: a Redis restart in progress finishes first, in ms. */
const scheduleStopMs = 60_000;
/** How long the retention check may take past the retention it waits for, in ms. */
const retentionCheckGraceMs = 120_000;
/** How long each part of the topology may take to close, in ms. */
const closeBoundMs = 15_000;

/** The engine's clock: retry backoff 15 s, 30 s, 1 min... becomes 0.75 s, 1.5 s, 3 s... */
const engineTimeScale = 0.05;

/**
 * Runs the fault suite: Redis (append-only), the dev server in checkpointing mode, worker processes
 * behind a failover proxy, and in this process the caller and the observers, all on the all-Redis
 * topology. Seeded runs go on while faults strike; then every run is checked against the model of
 * its plan, tools against the executions log, keys against retention, and memory against its bound.
 */
export async function runChaosSuite(options: ChaosOptions): Promise<ChaosReport> {
  const startedAt = Date.now();
  const log = options.log ?? (() => {});
  const random = createRandom(options.seed);
  const faults = new FaultLog();
  const directory = mkdtempSync(join(tmpdir(), "mastra-inngest-chaos-"));
  const executionsLog = join(directory, "executions.log");
  const redis = await startRedis({ appendOnly: true });
  // The engine keeps finished runs for inspection; 500 bound its memory in the long version.
  const engine = await startDevServer({ mode: "checkpoint", timeScale: engineTimeScale, retention: 500 });
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  admin.on("error", () => {});
  const settings = { engineUrl: engine.url, redisUrl: redis.url, executionsLog, retentionDivisor };
  const workers = await startWorkerPool(options.workers, settings);
  const caller = createChaosCaller(settings);
  const drops = random.fork("drops");
  const dropping = new DroppingPubSub(new RedisPubSub({ url: redis.url, logger: silentLogger }), () =>
    drops.chance(options.dropProbability),
  );
  const observerCache = new ScaledRetentionCache({ url: redis.url, retentionDivisor });
  const observers = new CachingPubSub(dropping, observerCache, { logger: silentLogger });
  const checked: CheckedRun[] = [];
  try {
    await engine.syncApp(workers.url);
    const memory = watchMemory(options.faultMs * 0.2);
    const stopFaults = new AbortController();
    const schedule = runFaultSchedule(
      { workers, workerCount: options.workers, redis, admin, faults },
      random.fork("faults"),
      options.pace,
      stopFaults.signal,
    );
    const faultEnd = Date.now() + options.faultMs;
    let next = 0;
    const inFlight = new Set<RunResult>();
    const context = {
      caller,
      observers,
      engine,
      faults,
      limits: options.limits ?? {},
      runBoundMs: options.runBoundMs,
      inFlight,
    };
    const sources = { cache: caller.cache, observers, engine, faults, runBoundMs: options.runBoundMs };
    const progress = setInterval(() => {
      log(`[chaos] ${checked.length} runs done, faults ${JSON.stringify(faults.counts())}`);
    }, 30_000);
    const lane = async (): Promise<void> => {
      while (Date.now() < faultEnd) {
        const runId = `r${options.seed}-${next++}`;
        checked.push(await checkRun(await driveRun(context, runId, random.fork(runId)), sources));
      }
    };
    const lanes = Array.from({ length: options.concurrentRuns }, lane);
    await new Promise((resolve) => setTimeout(resolve, options.faultMs));
    stopFaults.abort();
    await beforeDeadline(schedule, Date.now() + scheduleStopMs, "the fault schedule to stop");
    log(`[chaos] faults stopped; waiting for ${inFlight.size} runs in flight`);
    // Every run's driver returns by its deadline, each of its waits being bounded; a driver still
    // out after that is a wait the bounds missed, reported with where it waits rather than waited on.
    const lanesEnded = await settledBefore(Promise.all(lanes), faultEnd + options.runBoundMs + laneGraceMs);
    clearInterval(progress);
    if (!lanesEnded) {
      log(`[chaos] ${inFlight.size} run drivers still out ${laneGraceMs / 1000} s after their deadline`);
      for (const result of [...inFlight]) {
        const hangReport = formatHangReport(await collectHangEvidence(sources, result));
        checked.push({ result, violations: [hangReport], hangReport });
      }
    }
    // A driver that returns after this point is not checked again.
    const final = [...checked];
    const results = final.map((run) => run.result);
    const hangReports = final.flatMap((run) => run.hangReport ?? []);
    for (const report of hangReports) {
      log(`[chaos] seed ${options.seed}, a run that did not end:\n${report}`);
    }
    const channels = admin.call("PUBSUB", "CHANNELS") as Promise<string[]>;
    const subscribedChannels = (await beforeDeadline(channels, Date.now() + closeBoundMs, "PUBSUB CHANNELS")).length;
    log(`[chaos] ${results.length} runs ended after ${Math.round((Date.now() - startedAt) / 1000)} s; checking`);
    faults.record("live-event-drop", "", dropping.dropped.length);
    const memoryReport = memory.report();
    const executed = readExecutions(executionsLog);
    const executions = executionViolations(results, executed, faults);
    if (options.debugDirectory !== undefined) {
      const broken = final.filter(
        (run) =>
          run.violations.length > 0 ||
          executions.violations.some((violation) => violation.startsWith(`${run.result.plan.runId}/`)),
      );
      dumpViolatingRuns(options.debugDirectory, broken, engine, executed, faults);
    }
    const retention = {
      terminalTtlMs: Math.round(productRetention.endedMs / retentionDivisor),
      // The longest a record, claim or decision key is kept after its last write: a waiting run's.
      recordTtlMs: Math.round(
        (productRetention.waitMs + productRetention.endedMs + productRetention.activeMs) / retentionDivisor,
      ),
      waitForRecords: options.waitForRecords,
    };
    const violations = [
      ...final.flatMap((run) => run.violations),
      ...executions.violations,
      ...(await beforeDeadline(
        retentionViolations(admin, results, retention),
        Date.now() + retention.terminalTtlMs + retention.recordTtlMs + retentionCheckGraceMs,
        "the retention check",
      )),
      ...memoryViolations(memoryReport),
    ];
    log(`[chaos] checked after ${Math.round((Date.now() - startedAt) / 1000)} s`);
    return {
      seed: options.seed,
      durationMs: Date.now() - startedAt,
      faultMs: options.faultMs,
      runs: results.length,
      completedRuns: results.filter((result) => result.engineStatus === "Completed").length,
      faults: faults.counts(),
      toolExecutions: executions.executions,
      repeatedAfterFault: executions.repeatedAfterFault,
      memory: memoryReport,
      subscribedChannels,
      hungRuns: hangReports.length,
      startFailures: countBy(results.flatMap((result) => result.startFailures)),
      violations,
    };
  } finally {
    // A close that hangs must not hide what the suite found: each gets a bound.
    const closeBy = (): number => Date.now() + closeBoundMs;
    await settledBefore(observers.close(), closeBy());
    await settledBefore(observerCache.close(), closeBy());
    await settledBefore(caller.close(), closeBy());
    await settledBefore(workers.close(), closeBy());
    admin.disconnect();
    await settledBefore(engine.close(), closeBy());
    await settledBefore(redis.kill(), closeBy());
    rmSync(directory, { recursive: true, force: true });
  }
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) {
    counts[value] = (counts[value] ?? 0) + 1;
  }
  return counts;
}
