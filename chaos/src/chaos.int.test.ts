import { expect, it } from "vitest";
import { runChaosSuite } from "./chaos-suite.ts";
import { faultKinds } from "./fault-log.ts";
import { megabytes } from "./memory-watch.ts";
import { chooseSeed } from "./random.ts";

// The short version runs inside `pnpm test`; `pnpm test:chaos` sets CHAOS_MINUTES for the long one.
// CHAOS_SEED replays a seed.
const minutes = Number(process.env.CHAOS_MINUTES ?? "0");
const faultMs = minutes > 0 ? minutes * 60_000 : process.env.CI ? 75_000 : 90_000;
const long = minutes > 0;
const seed = chooseSeed();

it(
  `seeded agent runs under faults end as the model says (seed ${seed})`,
  async () => {
    console.log(`[chaos] seed ${seed}, ${Math.round(faultMs / 1000)} s of faults; replay with CHAOS_SEED=${seed}`);
    const report = await runChaosSuite({
      seed,
      faultMs,
      concurrentRuns: 4,
      workers: 2,
      pace: { minimumPauseMs: 300, maximumPauseMs: 2_500 },
      dropProbability: 0.05,
      runBoundMs: 120_000,
      waitForRecords: long,
      ...(process.env.CHAOS_DEBUG_DIR === undefined ? {} : { debugDirectory: process.env.CHAOS_DEBUG_DIR }),
      log: (line) => console.log(line),
    });
    console.log(
      `[chaos] seed ${seed}: ${report.runs} runs (${report.completedRuns} completed) in ${Math.round(report.durationMs / 1000)} s; ` +
        `faults ${JSON.stringify(report.faults)}; tool executions ${report.toolExecutions} ` +
        `(${report.repeatedAfterFault} repeated after a fault); heap ${megabytes(report.memory.baselineHeap)} warmed up, ` +
        `${megabytes(report.memory.peakHeap)} peak, ${megabytes(report.memory.finalHeap)} at the end, rss ${megabytes(report.memory.peakRss)} peak; ` +
        `${report.subscribedChannels} channels still subscribed; failed starts ${JSON.stringify(report.startFailures)}; ` +
        `${report.hungRuns} runs did not end; ${report.violations.length} violations`,
    );
    expect(report.violations, `seed ${seed}: invariants violated (replay with CHAOS_SEED=${seed})`).toEqual([]);
    for (const kind of faultKinds) {
      expect(
        report.faults[kind],
        `seed ${seed}: no ${kind} happened, so the suite proved nothing about it`,
      ).toBeGreaterThan(0);
    }
  },
  faultMs + 600_000,
);
