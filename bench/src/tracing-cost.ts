import { Mastra } from "@mastra/core/mastra";
import type { TracingEvent } from "@mastra/core/observability";
import { createInngestAgent } from "@mastra/inngest-agent";
import type { DevServer } from "@mastra/inngest-dev-server";
import { BaseExporter, Observability } from "@mastra/observability";
import { median } from "./measure.ts";
import {
  type BenchSystem,
  createClient,
  inngestSystem,
  type PreparedSystem,
  prepareOnEngine,
  type RunFigures,
  serveFunctions,
} from "./systems.ts";
import { callText, createBenchAgent, type Workload, workloads } from "./workloads.ts";

/** The cost of Mastra's tracing on one workload: this project's run with tracing off and on. */
export interface TracingCostRow {
  workload: string;
  runs: number;
  offWallMs: number;
  onWallMs: number;
  /** Wall time with tracing on over wall time with it off. */
  wallRatio: number;
  offCpuMs: number;
  onCpuMs: number;
  /** Spans the exporter received as ended, per traced run. */
  spansPerRun: number;
}

/**
 * An exporter that only counts what it receives: the cost measured is Mastra's tracing (spans
 * opened, rebuilt in each step, exported through its event bus), not a backend's network.
 */
class CountingExporter extends BaseExporter {
  name = "counting";
  ended = 0;
  protected override async _exportTracingEvent(event: TracingEvent): Promise<void> {
    if (event.type === "span_ended") {
      this.ended++;
    }
  }
  override async shutdown(): Promise<void> {}
}

/** This project's agent on the dev server with Mastra's tracing on, exporting to `exporter`. */
function tracedInngestSystem(engine: DevServer, exporter: CountingExporter): BenchSystem {
  return {
    name: `@mastra/inngest traced (${engine.mode})`,
    async prepare(workload, delayMs) {
      const id = `traced-${workload.toolIterations}-${workload.callsPerIteration}-${delayMs}`;
      const inngest = createClient(engine, id);
      const durable = createInngestAgent({ agent: createBenchAgent(workload, delayMs, id), inngest });
      const observability = new Observability({
        configs: { default: { serviceName: "bench", exporters: [exporter] } },
      });
      new Mastra({ agents: { [id]: durable as never }, observability, logger: false });
      const app = await serveFunctions(inngest, durable.getInngestFunctions());
      return prepareOnEngine(engine, app.url, durable as never, async () => {
        await durable.pubsub.close();
        await app.close();
      });
    },
  };
}

/** Runs `prepared` once and checks its answer. */
async function checkedRun(prepared: PreparedSystem, workload: Workload): Promise<RunFigures> {
  const figures = await prepared.run();
  const expected = callText(workload.toolIterations);
  if (figures.text !== expected) {
    throw new Error(
      `the traced comparison answered ${JSON.stringify(figures.text)}, expected ${JSON.stringify(expected)}`,
    );
  }
  return figures;
}

/**
 * Measures each workload (model delay 0) with tracing off and on, on the same engine, the runs of
 * the two interleaved so the machine's drift falls on both.
 */
export async function measureTracingCost(
  engine: DevServer,
  settings: { warmups: number; runs: number },
): Promise<TracingCostRow[]> {
  const rows: TracingCostRow[] = [];
  for (const workload of workloads) {
    const exporter = new CountingExporter();
    const off = await inngestSystem(engine).prepare(workload, 0);
    const on = await tracedInngestSystem(engine, exporter).prepare(workload, 0);
    const offRuns: RunFigures[] = [];
    const onRuns: RunFigures[] = [];
    const spans: number[] = [];
    for (let index = 0; index < settings.warmups + settings.runs; index++) {
      const offFigures = await checkedRun(off, workload);
      const endedBefore = exporter.ended;
      const onFigures = await checkedRun(on, workload);
      if (index >= settings.warmups) {
        offRuns.push(offFigures);
        onRuns.push(onFigures);
        spans.push(exporter.ended - endedBefore);
      }
    }
    await off.close();
    await on.close();
    const offWallMs = median(offRuns.map((figures) => figures.wallMs));
    const onWallMs = median(onRuns.map((figures) => figures.wallMs));
    rows.push({
      workload: workload.name,
      runs: settings.runs,
      offWallMs,
      onWallMs,
      wallRatio: onWallMs / offWallMs,
      offCpuMs: median(offRuns.map((figures) => figures.appCpuMs)),
      onCpuMs: median(onRuns.map((figures) => figures.appCpuMs)),
      spansPerRun: median(spans),
    });
    process.stdout.write(`tracing cost, ${workload.name}: ×${(onWallMs / offWallMs).toFixed(2)}\n`);
  }
  return rows;
}

/** The report's table of the cost of tracing. */
export function tracingCostLines(rows: readonly TracingCostRow[], engineMode: string): string[] {
  if (rows.length === 0) {
    return [];
  }
  return [
    `Cost of tracing: this project (${engineMode}, caller and worker in one process) with Mastra's \`Observability\` on (an exporter that counts the spans it receives) against off, model delay 0, medians of ${rows[0]?.runs} interleaved runs each.`,
    "",
    "| workload | off wall ms | on wall ms | × off | off app CPU ms | on app CPU ms | spans per run |",
    "|---|---|---|---|---|---|---|",
    ...rows.map(
      (row) =>
        `| ${row.workload} | ${row.offWallMs.toFixed(1)} | ${row.onWallMs.toFixed(1)} | ${row.wallRatio.toFixed(2)} | ${row.offCpuMs.toFixed(0)} | ${row.onCpuMs.toFixed(0)} | ${row.spansPerRun} |`,
    ),
  ];
}
