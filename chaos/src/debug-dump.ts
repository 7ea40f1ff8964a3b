import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DevServer } from "@mastra/inngest-dev-server";
import { describeEvent } from "./describe-event.ts";
import type { RunResult } from "./drive-run.ts";
import type { ToolExecution } from "./execution-invariants.ts";
import type { FaultLog } from "./fault-log.ts";

/**
 * Writes what the suite knows of each run that broke an invariant (its plan, history, observers,
 * the engine's step executions, tool executions) and the fault timeline into `directory`, one JSON
 * file per run, so a failure can be read without replaying the seed.
 */
export function dumpViolatingRuns(
  directory: string,
  runs: Array<{ result: RunResult; violations: string[] }>,
  engine: DevServer,
  executions: ToolExecution[],
  faults: FaultLog,
): void {
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, "faults.json"), JSON.stringify(faults.records(), null, 1));
  for (const { result, violations } of runs) {
    const run = result.engineRunId === undefined ? undefined : engine.run(result.engineRunId);
    const summary = {
      violations,
      plan: result.plan,
      expected: result.expected,
      startedAt: result.startedAt,
      endedAt: result.endedAt,
      engineStatus: result.engineStatus,
      crashed: result.crashed,
      resumes: result.resumes,
      startFailures: result.startFailures,
      callerTypes: result.callerTypes.join(","),
      log: result.log?.map(describeEvent),
      segments: result.segments.map((segments) =>
        segments.map((segment) => ({
          offset: segment.offset,
          ended: segment.ended,
          disconnected: segment.disconnected,
          events: segment.events.map(describeEvent),
        })),
      ),
      engineSteps: run?.steps.map((step) => JSON.stringify(step)),
      blockedOn: run?.blockedOn,
      executions: executions.filter((execution) => execution.reference.startsWith(`${result.plan.runId}/`)),
    };
    writeFileSync(join(directory, `${result.plan.runId}.json`), JSON.stringify(summary, null, 1));
  }
}
