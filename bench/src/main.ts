// `pnpm bench` (quick) or `pnpm bench --full`: the agent-run benchmark, every system in one process
// and one run, medians over repeated runs, written to results/<date>.json and results/<date>.md.
import { writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { startDevServer } from "@mastra/inngest-dev-server";
import { type CapacityFigures, measureCapacity } from "./capacity.ts";
import { clusterLines, measureCluster } from "./cluster.ts";
import { criticalPathTable, traceCriticalPath } from "./critical-path.ts";
import { median } from "./measure.ts";
import { measureReplay } from "./replay.ts";
import { measureStreaming } from "./streaming.ts";
import {
  type BenchSystem,
  coreDurableSystem,
  inngestSystem,
  plainSystem,
  publishedInngestSystem,
  type RunFigures,
  splitInngestSystem,
} from "./systems.ts";
import { measureTracingCost, tracingCostLines } from "./tracing-cost.ts";
import { callText, workloads } from "./workloads.ts";

const full = process.argv.includes("--full");
// `--only=agent,trace,tracing,replay,streaming,cluster,capacity` runs those sections only (for working on one of them).
const onlyArgument = process.argv.find((argument) => argument.startsWith("--only="));
const sections = new Set(
  (onlyArgument?.slice("--only=".length) ?? "agent,trace,tracing,replay,streaming,cluster,capacity").split(","),
);
const settings = full
  ? {
      warmups: 1,
      runs: 5,
      publishedRuns: 3,
      delays: [0, 20],
      replayEvents: [10_000, 100_000],
      streamingEventsPerRun: 1000,
      capacity: { levels: [100, 300, 1000, 3000], settleSeconds: 3, measureSeconds: 10 },
    }
  : {
      warmups: 1,
      runs: 5,
      publishedRuns: 3,
      delays: [0],
      replayEvents: [10_000, 100_000],
      streamingEventsPerRun: 200,
      capacity: { levels: [100, 300, 1000], settleSeconds: 2, measureSeconds: 5 },
    };

interface Row {
  system: string;
  workload: string;
  delayMs: number;
  runs: number;
  median: Record<keyof Omit<RunFigures, "text">, number>;
}

// How long each section took, so both modes can be kept within their time (quick 3 min, full 10).
const sectionSeconds: Array<[string, number]> = [];
let sectionStarted = performance.now();
const sectionDone = (section: string): void => {
  sectionSeconds.push([section, (performance.now() - sectionStarted) / 1000]);
  sectionStarted = performance.now();
};

const checkpoint = await startDevServer({ mode: "checkpoint" });
const classic = await startDevServer({ mode: "classic" });
const systems: BenchSystem[] = [
  plainSystem,
  coreDurableSystem,
  inngestSystem(checkpoint),
  splitInngestSystem(checkpoint),
  publishedInngestSystem(checkpoint),
  inngestSystem(classic),
  publishedInngestSystem(classic),
];
const rows: Row[] = [];

for (const delayMs of sections.has("agent") ? settings.delays : []) {
  for (const workload of workloads) {
    const expected = callText(workload.toolIterations);
    for (const system of systems) {
      const prepared = await system.prepare(workload, delayMs);
      const measured: RunFigures[] = [];
      // The published package takes seconds a run: quick mode measures it fewer times to stay short.
      const runs = system.name.startsWith("@mastra/inngest@1.9.0") ? settings.publishedRuns : settings.runs;
      for (let index = 0; index < settings.warmups + runs; index++) {
        const figures = await prepared.run();
        if (figures.text !== expected) {
          throw new Error(
            `${system.name} answered ${JSON.stringify(figures.text)} for ${workload.name}, expected ${JSON.stringify(expected)}`,
          );
        }
        if (index >= settings.warmups) measured.push(figures);
      }
      await prepared.close();
      const keys = [
        "wallMs",
        "startMs",
        "firstTextMs",
        "appCpuMs",
        "chunks",
        "stepsExecuted",
        "httpCalls",
        "publishes",
        "memoizedBytes",
        "engineCpuMs",
        "workerCpuMs",
      ] as const;
      const row: Row = {
        system: system.name,
        workload: workload.name,
        delayMs,
        runs: measured.length,
        median: {} as Row["median"],
      };
      for (const key of keys) row.median[key] = median(measured.map((figures) => figures[key]));
      rows.push(row);
      process.stdout.write(
        `${workload.name}, ${delayMs} ms/chunk, ${system.name}: ${row.median.wallMs.toFixed(1)} ms\n`,
      );
    }
  }
}
sectionDone("agent");
const criticalPaths = [];
for (const workload of sections.has("trace") ? workloads : []) {
  criticalPaths.push(await traceCriticalPath(checkpoint, workload));
  process.stdout.write(`critical path, ${workload.name}: done\n`);
}
sectionDone("trace");
const tracing = sections.has("tracing") ? await measureTracingCost(checkpoint, settings) : [];
sectionDone("tracing");
await checkpoint.close();
await classic.close();
const replay = sections.has("replay") ? await measureReplay(settings.replayEvents) : [];
sectionDone("replay");
const streaming = sections.has("streaming")
  ? await measureStreaming(settings.streamingEventsPerRun)
  : { rows: [], redisBenchmark: {} };
// The Redis Cluster row: 1, 100 and 1,000 runs at once; quick mode streams fewer chunks per run.
sectionDone("streaming");
const cluster = sections.has("cluster") ? await measureCluster([1, 100, 1000], full ? 100 : 20) : [];
sectionDone("cluster");
const capacity: CapacityFigures[] = sections.has("capacity") ? await measureCapacity(settings.capacity) : [];
sectionDone("capacity");

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const date = new Date().toISOString().slice(0, 10);
const table = [
  `Agent run, ${full ? "full" : "quick"} mode, ${machine}. Medians of ${settings.runs} runs (${settings.publishedRuns} for @mastra/inngest@1.9.0) after ${settings.warmups} warm-up(s); one process holds caller, app and dev server, except for the split rows, whose worker runs in its own process (their app CPU is the caller's, the worker's CPU has its own column).`,
  "",
  "| workload | delay | system | wall ms | stream() returned ms | first text ms | × plain | app CPU ms | worker CPU ms | engine CPU ms | steps | HTTP calls | publishes | memoized bytes |",
  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ...rows.map((row) => {
    const plain = rows.find(
      (other) => other.workload === row.workload && other.delayMs === row.delayMs && other.system === plainSystem.name,
    );
    const ratio = plain ? (row.median.wallMs / plain.median.wallMs).toFixed(1) : "-";
    const m = row.median;
    return `| ${row.workload} | ${row.delayMs} ms | ${row.system} | ${m.wallMs.toFixed(1)} | ${m.startMs.toFixed(1)} | ${m.firstTextMs.toFixed(1)} | ${ratio} | ${m.appCpuMs.toFixed(0)} | ${m.workerCpuMs > 0 ? m.workerCpuMs.toFixed(0) : "-"} | ${m.engineCpuMs.toFixed(0)} | ${m.stepsExecuted} | ${m.httpCalls} | ${m.publishes} | ${m.memoizedBytes} |`;
  }),
].join("\n");
const ratioLines = [
  "| workload | delay | mode | @mastra/inngest ÷ @mastra/inngest@1.9.0, wall | ÷ plain agent, wall | steps, ours vs 1.9.0 | memoized bytes, ours vs 1.9.0 |",
  "|---|---|---|---|---|---|---|",
];
const chartBars: Array<{ label: string; ours: number; published: number }> = [];
for (const delayMs of settings.delays) {
  for (const workload of workloads) {
    const find = (name: string) =>
      rows.find((row) => row.workload === workload.name && row.delayMs === delayMs && row.system === name);
    const plain = find(plainSystem.name);
    for (const mode of ["checkpoint", "classic"]) {
      const ours = find(`@mastra/inngest (${mode})`);
      const published = find(`@mastra/inngest@1.9.0 (${mode})`);
      if (!ours || !published || !plain) continue;
      ratioLines.push(
        `| ${workload.name} | ${delayMs} ms | ${mode} | ${(ours.median.wallMs / published.median.wallMs).toFixed(2)} | ${(ours.median.wallMs / plain.median.wallMs).toFixed(1)} | ${ours.median.stepsExecuted} vs ${published.median.stepsExecuted} | ${ours.median.memoizedBytes} vs ${published.median.memoizedBytes} |`,
      );
      chartBars.push({
        label: `${workload.name}, ${delayMs} ms, ${mode}`,
        ours: ours.median.wallMs,
        published: published.median.wallMs,
      });
    }
  }
}
const replayLines = [
  "Replay of a finished run from offset 0 over `RedisStreamCache` (a Redis server of its own, same machine), after one unmeasured replay of 1,000 events per layer; each run replayed 3 times through a fresh layer: the median time, the highest heap growth.",
  "",
  "| events | caching layer | write ms | replay ms (to last event) | peak heap growth MiB |",
  "|---|---|---|---|---|",
  ...replay.map(
    (row) =>
      `| ${row.events} | ${row.system} | ${row.writeMs.toFixed(0)} | ${row.replayMs.toFixed(0)} | ${row.peakHeapMiB.toFixed(1)} |`,
  ),
];
const streamingLines = [
  `Streaming path: every run publishes ${settings.streamingEventsPerRun} chunks as fast as it can (all runs at once), an observer per run reads from offset 0 through another \`CachingPubSub\` instance (the in-memory pair shares one). \`redis-benchmark\` on the same server, 50,000 requests, no pipelining: PUBLISH ${streaming.redisBenchmark.PUBLISH} and RPUSH ${streaming.redisBenchmark.RPUSH} requests per second.`,
  "",
  "| pair | runs at once | chunks per second | p50 publish-to-observer ms | p99 ms |",
  "|---|---|---|---|---|",
  ...streaming.rows.map(
    (row) =>
      `| ${row.pair} | ${row.concurrentRuns} | ${row.eventsPerSecond.toFixed(0)} | ${row.p50Ms.toFixed(1)} | ${row.p99Ms.toFixed(1)} |`,
  ),
];
const knee = capacity.find((level) => !level.withinGoal);
const capacityLines = [
  `Capacity: one worker process streams every live run through one \`CachingPubSub\` over one Redis (20 chunks a second per run, about 30 tokens a chunk, a publisher per 20-chunk step flushed at its end), one observer process follows every run from offset 0 through its own \`CachingPubSub\`, this process ramps the live runs; each level settles ${settings.capacity.settleSeconds} s and is measured ${settings.capacity.measureSeconds} s. CPU in % of one core; heap per run is the worker's heap after a collection, less its heap before any run, per live run. Goal: p99 <= 100 ms with every chunk delivered. ${knee === undefined ? "Every level met it." : `First level past the goal (the knee): ${knee.liveRuns} live runs.`}`,
  "",
  "| live runs | offered chunks/s | published/s | delivered/s | p50 ms | p99 ms | max ms | Redis CPU % | worker CPU % | observer CPU % | heap per run KiB | worker RSS MiB | load average |",
  "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ...capacity.map(
    (level) =>
      `| ${level.liveRuns} | ${level.liveRuns * 20} | ${level.publishedPerSecond.toFixed(0)} | ${level.deliveredPerSecond.toFixed(0)} | ${level.p50Ms.toFixed(1)} | ${level.p99Ms.toFixed(1)} | ${level.maxMs.toFixed(0)} | ${level.redisCpuPercent.toFixed(0)} | ${level.workerCpuPercent.toFixed(0)} | ${level.observerCpuPercent.toFixed(0)} | ${level.heapPerRunKiB.toFixed(1)} | ${level.workerRssMiB.toFixed(0)} | ${level.loadAverage.toFixed(1)} |`,
  ),
];
const report = `${table}\n\nRatios (below 1: this project is faster).\n\n${ratioLines.join("\n")}\n\n${criticalPaths.map(criticalPathTable).join("\n\n")}\n\n${[...tracingCostLines(tracing, "checkpoint"), ""].join("\n")}\n${replayLines.join("\n")}\n\n${streamingLines.join("\n")}\n\n${[...clusterLines(cluster), ""].join("\n")}\n${capacityLines.join("\n")}\n`;
const timing = `Seconds per section: ${sectionSeconds.map(([section, seconds]) => `${section} ${seconds.toFixed(0)}`).join(", ")}.`;
const directory = new URL("../results/", import.meta.url);
// A partial run (--only) writes files of its own, so it never replaces a whole run's.
const suffix = onlyArgument === undefined ? "" : `-only-${[...sections].join("-")}`;
await writeFile(
  new URL(`${date}-${full ? "full" : "quick"}${suffix}.json`, directory),
  `${JSON.stringify({ date, mode: full ? "full" : "quick", machine, settings, rows, criticalPaths, tracing, replay, streaming, cluster, capacity }, null, 2)}\n`,
);
await writeFile(new URL(`${date}-${full ? "full" : "quick"}${suffix}.md`, directory), `${report}\n${timing}\n`);
await writeFile(new URL(`${date}-${full ? "full" : "quick"}${suffix}.svg`, directory), barChart(chartBars));
process.stdout.write(`\n${report}\n${timing}\n`);

/** A horizontal bar chart of wall times, this project against 1.9.0, on a linear scale. */
function barChart(bars: Array<{ label: string; ours: number; published: number }>): string {
  const width = 760;
  const labelWidth = 250;
  const rowHeight = 34;
  const largest = Math.max(1, ...bars.map((bar) => Math.max(bar.ours, bar.published)));
  const scale = (value: number) => ((width - labelWidth - 90) * value) / largest;
  const rowsSvg = bars.map((bar, index) => {
    const y = 40 + index * rowHeight;
    return [
      `<text x="4" y="${y + 14}" font-size="12">${bar.label}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${scale(bar.ours).toFixed(1)}" height="12" fill="#2f855a"/>`,
      `<text x="${labelWidth + scale(bar.ours) + 4}" y="${y + 10}" font-size="10">${bar.ours.toFixed(0)} ms</text>`,
      `<rect x="${labelWidth}" y="${y + 14}" width="${scale(bar.published).toFixed(1)}" height="12" fill="#a0aec0"/>`,
      `<text x="${labelWidth + scale(bar.published) + 4}" y="${y + 24}" font-size="10">${bar.published.toFixed(0)} ms</text>`,
    ].join("");
  });
  const height = 50 + bars.length * rowHeight;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
    "<title>Agent run wall time: @mastra/inngest against @mastra/inngest@1.9.0</title>",
    `<text x="4" y="18" font-size="14">Agent run wall time, median (green: @mastra/inngest, grey: @mastra/inngest@1.9.0)</text>`,
    ...rowsSvg,
    "</svg>",
    "",
  ].join("\n");
}
